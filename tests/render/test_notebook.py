"""Results display as tables in a notebook (``_repr_html_``), escaped like the report."""

from __future__ import annotations

import numpy as np
import pytest
from markupsafe import escape as html_escape

from gradcheck import check_gradients
from gradcheck.results import CheckOutcome, GradientCheckResult, ProbeResult, SuiteResult
from gradcheck.results.findings import Finding

EVIL = "<script>alert(1)</script>"


def _result(name: str = "W", scale: float = 1.0) -> GradientCheckResult:
    W = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    return check_gradients(lambda: float(np.sum(W ** 2)), {name: W}, lambda: {name: scale * 2 * W})


def test_a_gradient_check_is_a_table_with_the_worst_entry():
    result = _result(scale=3.0)
    html = result._repr_html_()
    assert html.count("<tr>") == 1 + len(result.params)
    report = result["W"]
    assert f"W[{', '.join(map(str, report.worst_index))}]" in html
    assert "(2, 3)" in html and "FAIL" in html and "(scale)" in html


def test_a_passing_check_says_pass():
    html = _result()._repr_html_()
    assert "pass" in html and "FAIL" not in html


def test_user_text_is_escaped():
    html = _result(name=EVIL, scale=3.0)._repr_html_()
    assert EVIL not in html and "&lt;script&gt;" in html
    probe = ProbeResult("p", "softmax", [Finding(kind="overflow", subject="softmax",
                                                        text=EVIL, hint=EVIL)])
    assert EVIL not in probe._repr_html_() and "&lt;script&gt;alert(1)" in probe._repr_html_()


def test_a_probe_shows_where_it_breaks():
    probe = ProbeResult("p", "softmax", [Finding(kind="overflow", subject="softmax",
                                                        text="softmax overflows")],
                        breaking_magnitude=711.0)
    html = probe._repr_html_()
    assert "breaks at 711" in html and "softmax overflows" in html and "FAIL" in html


def test_a_suite_is_one_row_per_check():
    suite = SuiteResult(target=EVIL, outcomes=[
        CheckOutcome("check_gradients_batch1", "gradients", "one example", "failed", _result(scale=3.0)),
        CheckOutcome("check_shapes_any_batch_size", "probes", "shapes", "error", None, "no forward"),
    ])
    html = suite._repr_html_()
    assert html.count("<tr>") == 3
    assert "check_gradients_batch1" in html and "ERROR" in html and "no forward" in html
    assert "(scale)" in html  # the failing check's first finding
    assert EVIL not in html


HOSTILE = ["W\nPASSED: all", "\x1b[2J\x1b[31mW1", "W\u202e1b", "W\udc80", "b\x07\x00"]


def _no_control_characters(html: str) -> bool:
    import unicodedata

    html.encode("utf-8")  # a lone surrogate would fail here, and in the notebook's message
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in html.replace("\n", ""))


@pytest.mark.parametrize("name", HOSTILE, ids=["newline", "ansi", "rtl_override", "surrogate", "bell"])
def test_names_and_messages_from_user_code_show_escaped_as_in_the_terminal(name):
    from gradcheck.text import printable

    result = _result(name=name, scale=3.0)
    probe = ProbeResult("p", name, [Finding(kind="overflow", subject=name,
                                                   text=f"{name} overflows", hint=name)])
    suite = SuiteResult(target=name, outcomes=[
        CheckOutcome("check_gradients_batch1", "gradients", "one example", "failed", result),
        CheckOutcome("check_x", "probes", "x", "error", None, f"raised {name}")])
    for shown in (result, probe, suite):
        html = shown._repr_html_()
        assert _no_control_characters(html), repr(html)
        assert str(html_escape(printable(name))) in html  # the name as the terminal shows it


def test_a_very_long_name_wraps_instead_of_widening_the_table():
    name = "W_" + "x" * 400
    html = _result(name=name, scale=3.0)._repr_html_()
    assert f'<code style="overflow-wrap:anywhere">{name}</code>' in html


@pytest.mark.parametrize("command", ["check", "probe", "report"])
def test_a_suite_of_every_command_displays_with_its_verdict(command, tmp_path, capsys):
    """A suite loaded from the JSON of ``check``, ``probe`` or ``report`` renders in a notebook."""
    import json
    from pathlib import Path

    from gradcheck.frontends.cli import main

    target = f"{Path(__file__).resolve().parents[2] / 'examples' / 'layer_objects_buggy.py'}:target"
    path = tmp_path / f"{command}.json"
    extra = ["-o", str(tmp_path / "page.html")] if command == "report" else []
    main([command, target, "--mode", "directional", "--json", str(path), *extra])
    capsys.readouterr()
    suite = SuiteResult.from_dict(json.loads(path.read_text()))
    html = suite._repr_html_()
    assert str(html_escape(suite.verdict.headline)) in html
    assert html.count("<tr>") == 1 + len(suite.outcomes)


def test_an_empty_suite_and_a_suite_of_several_targets_display():
    empty = SuiteResult(target="nothing")
    assert "COULD NOT CHECK: no check was run" in empty._repr_html_()
    passing = SuiteResult("a.py:target", outcomes=[
        CheckOutcome.of("check_gradients_batch1", "gradients", "one example", _result())])
    failing = SuiteResult("b.py:target", outcomes=[
        CheckOutcome.of("check_gradients_batch1", "gradients", "one example", _result(scale=3.0),
                        subject="network")])
    several = SuiteResult("2 targets", targets=[passing, failing])
    html = several._repr_html_()
    assert "FAILED: 2 targets: 1 passed, 1 failed, 0 could not be checked" in html
    assert "a.py:target" in html and "wrong gradient for W" in html
