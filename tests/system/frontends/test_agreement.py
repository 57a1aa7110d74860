"""Every front end says the same thing about the same network.

For every example and a correct and a buggy network of each corpus style, the command line's
JSON, the pytest plugin's outcomes and summary line, the Python API, the HTML report's banner
and the notebook view must agree on the status, the failing parameters and the finding kinds:
they all read one verdict (:mod:`gradcheck.results.verdict`) from one results model.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from gradcheck.config import CheckConfig
from gradcheck.engine import COMMAND_GROUPS, run_suite
from gradcheck.frontends.cli import main
from gradcheck.frontends.session import load_target
from gradcheck.render.html_report import render_html
from gradcheck.results import CheckOutcome, SuiteResult
from tests.corpus.sweep import NATIVE_BUGS

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow  # every target through four front ends

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.py")
                  if not p.stem.startswith("_") and "target = " in p.read_text())
#: One bug written into each corpus style's own code, and the style's correct network.
CORPUS = [(style, None) for style in dict.fromkeys(b.style for b in NATIVE_BUGS)] + [
    (style, next(b.name for b in NATIVE_BUGS if b.style == style))
    for style in dict.fromkeys(b.style for b in NATIVE_BUGS)]
OPTIONS = ("--mode", "directional")
CORPUS_TARGET = """
import numpy as np
from tests.corpus.networks import STYLES, batch

X, y = batch(16, 0)
target = STYLES[{style!r}](0, np.float64, X, y, bug={bug!r})
"""


def _corpus_file(tmp_path: Path, style: str, bug: str | None) -> str:
    path = tmp_path / f"{style}_{bug or 'correct'}.py"
    path.write_text(CORPUS_TARGET.format(style=style, bug=bug), encoding="utf-8")
    return f"{path}:target"


def _said(suite: SuiteResult) -> tuple:
    """What a front end must agree on: the status, the failing parameters, the finding kinds,
    and every check's status."""
    verdict = suite.verdict
    return (verdict.status, verdict.wrong_gradients, verdict.failing_kinds,
            tuple((o.name, o.status) for o in suite.outcomes))


def _cli(spec: str, command: str, tmp_path: Path, capsys) -> tuple[SuiteResult, str, int]:
    path = tmp_path / f"{command}.json"
    code = main([command, spec, *OPTIONS, "--json", str(path)])
    out = capsys.readouterr().out
    return SuiteResult.from_dict(json.loads(path.read_text())), out, code


def _python_api(spec: str, command: str) -> SuiteResult:
    config = CheckConfig(mode="directional")
    loaded = load_target(spec, config)
    return run_suite(loaded.target, config, groups=COMMAND_GROUPS[command], **loaded.engine_arguments())


def _plugin(pytester, spec: str, command: str) -> tuple[SuiteResult, str]:
    keep = {"check": "check_gradients or check_layer", "probe": "not check_gradients and not check_layer"}
    result = pytester.runpytest_inprocess("--gradcheck-target", spec, "--gradcheck-mode", "directional",
                                          "-k", keep[command], "-p", "no:cacheprovider")
    outcomes = []
    for report in result.reprec.getreports("pytest_runtest_logreport"):
        if report.when != "call":
            continue
        for name, value in report.user_properties:
            if name == "gradcheck_outcome":
                data = json.loads(value)
                outcomes.append((data["index"], CheckOutcome.from_dict(data["outcome"])))
    suite = SuiteResult(target=spec, outcomes=[o for _, o in sorted(outcomes, key=lambda x: x[0])])
    verdicts = ("gradcheck: PASSED", "gradcheck: FAILED", "gradcheck: COULD NOT CHECK",
                "gradcheck: INCONCLUSIVE")
    summary = next((line for line in result.outlines if line.startswith(verdicts)), "")
    return suite, summary


def _agree(spec: str, command: str, tmp_path, capsys, pytester) -> None:
    cli, out, code = _cli(spec, command, tmp_path, capsys)
    api = _python_api(spec, command)
    plugin, summary = _plugin(pytester, spec, command)
    said = _said(cli)
    assert _said(api) == said, "the Python API disagrees with the command line"
    assert _said(plugin) == said, "the pytest plugin disagrees with the command line"
    verdict = cli.verdict
    # the terminal's last line, the plugin's summary line, the page's banner, the notebook
    assert out.rstrip().splitlines()[-1] == verdict.headline
    assert summary == f"gradcheck: {verdict.headline}"
    assert code == verdict.exit_code
    page = render_html(cli)
    banner = page[page.index('id="verdict"'):page.index("</nav>")]
    assert verdict.word in banner and html.escape(verdict.reason or "", quote=False) in banner
    assert html.escape(verdict.headline, quote=False) in cli._repr_html_()
    if verdict.status != "passed":
        assert not any(word in verdict.headline for word in ("match finite differences", "PASSED"))


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_front_end_gives_an_examples_gradient_verdict(example, tmp_path, capsys, pytester):
    _agree(f"{ROOT / 'examples' / example}.py:target", "check", tmp_path, capsys, pytester)


@pytest.mark.parametrize("style, bug", CORPUS, ids=[f"{s}-{b or 'correct'}" for s, b in CORPUS])
def test_every_front_end_gives_a_corpus_networks_verdict(style, bug, tmp_path, capsys, pytester,
                                                         monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    _agree(_corpus_file(tmp_path, style, bug), "check", tmp_path, capsys, pytester)


@pytest.mark.parametrize("example", ["blog_buggy", "layer_objects_buggy", "binary_correct"])
def test_every_front_end_gives_the_same_probe_verdict(example, tmp_path, capsys, pytester):
    _agree(f"{ROOT / 'examples' / example}.py:target", "probe", tmp_path, capsys, pytester)


#: A float32 network whose gradients (about 1e-5) sit below its loss's rounding, and whose code
#: casts back to float32, so no float64 copy of it can judge them either.
INCONCLUSIVE_TARGET = """
import numpy as np
from gradcheck.adapters import functional

rng = np.random.default_rng(0)
params = {"W1": (1e-5 * rng.standard_normal((5, 16))).astype(np.float32),
          "b1": np.zeros(16, dtype=np.float32),
          "W2": (1e-5 * rng.standard_normal((16, 3))).astype(np.float32),
          "b2": np.zeros(3, dtype=np.float32)}


def forward(p, X):
    H = np.tanh(X @ p["W1"] + p["b1"])
    return (H @ p["W2"] + p["b2"]).astype(np.float32), H


def output(p, X):
    Z = forward(p, X)[0]
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def gradients(p, X, y):
    Z, H = forward(p, X)
    dZ = output(p, X).copy()
    dZ[np.arange(X.shape[0]), y] -= 1
    dZ = (dZ / X.shape[0]).astype(np.float32)
    dH = dZ @ p["W2"].T * (1 - H ** 2)
    return X.T @ dH, dH.sum(axis=0), (H.T @ dZ).astype(np.float32), dZ.sum(axis=0)


target = functional(params, output=output, gradients=gradients)
"""


def test_every_front_end_says_inconclusive_for_a_network_nothing_could_judge(tmp_path, capsys, pytester):
    path = tmp_path / "tiny_float32.py"
    path.write_text(INCONCLUSIVE_TARGET, encoding="utf-8")
    spec = f"{path}:target"
    _agree(spec, "check", tmp_path, capsys, pytester)
    cli, out, code = _cli(spec, "check", tmp_path, capsys)
    assert cli.verdict.status == "inconclusive" and code == 3
    assert "W1" in cli.verdict.undecided and "float64 would judge them" in cli.verdict.headline
    # the plugin skips each check that could not judge, with the reason
    result = pytester.runpytest_inprocess("--gradcheck-target", spec, "--gradcheck-mode", "directional",
                                          "-rs", "-p", "no:cacheprovider")
    assert result.ret == 0
    assert any("inconclusive:" in line and "could be judged" in line for line in result.outlines)


def test_a_buggy_network_whose_batch_of_one_passes_is_failed_everywhere(tmp_path, capsys, pytester):
    """The report once said "All 4 gradients match" because the batch-of-one check passed (1/m is
    1 there): now every front end names the wrong parameters."""
    spec = f"{ROOT / 'examples' / 'layer_objects_buggy.py'}:target"
    cli, out, code = _cli(spec, "report", tmp_path, capsys)
    assert cli["check_gradients_batch1"].status == "passed" and code == 1
    verdict = cli.verdict
    assert verdict.headline.startswith("FAILED: wrong gradient for W1, b1, W2, b2 (")
    assert out.rstrip().splitlines()[-1] == verdict.headline
    assert "match" not in out.rstrip().splitlines()[-1]
