"""The HTML page: gold file, determinism, one verdict, ranked cards, escaping, self-containment."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html as html_lib
import json
import os
import re
from pathlib import Path

import pytest
from markupsafe import escape

from gradcheck.errors import ReportWriteError
from gradcheck.render.html_report import render_html, write_html
from gradcheck.results import SuiteResult
from tests.render import samples

GOLD = Path(__file__).parent / "gold"
TIMESTAMP = re.compile(r"<time>[^<]*</time>")
SVG = re.compile(r"<svg\b.*?</svg>", re.S)
PAYLOADS = [
    '<script>document.title="PWNED"</script>',
    '"><img src=x onerror="document.title=\'PWNED\'">',
    "</style><script>alert(1)</script>",
]


def _scrub(html: str) -> str:
    """Timestamp out; SVG bodies out (matplotlib's path data may change across its versions)."""
    html = TIMESTAMP.sub("<time>TIMESTAMP</time>", html)
    return SVG.sub("<svg>CHART</svg>", html)


def _section(html: str, anchor: str) -> str:
    """From ``id="anchor"`` to the next section (or the end)."""
    start = html.index(f'id="{anchor}"')
    end = html.find("<section", start)
    return html[start:end if end > 0 else len(html)]


def _card(html: str, anchor: str) -> str:
    """From ``id="anchor"`` to the next card or section."""
    start = html.index(f'id="{anchor}"')
    ends = [i for i in (html.find("<section", start), html.find('<div class="card', start)) if i > 0]
    return html[start:min(ends) if ends else len(html)]


@pytest.mark.parametrize("name", ["failing", "passing"])
def test_matches_gold_file(name, failing_html):
    html = _scrub(failing_html if name == "failing" else render_html(samples.passing_suite()))
    gold = GOLD / f"{name}.html"
    if os.environ.get("GRADCHECK_REGEN_GOLD") == "1":
        gold.write_text(html, encoding="utf-8")
    expected = gold.read_text(encoding="utf-8")
    assert html == expected, f"if intended, rerun with GRADCHECK_REGEN_GOLD=1 ({gold})"


def test_same_suite_gives_same_page_except_timestamp_line(failing_html):
    later = {**samples.ENVIRONMENT, "created": "2026-02-02T12:00:00+00:00"}
    second = render_html(samples.failing_suite(environment=later))
    diff = [(a, b) for a, b in zip(failing_html.splitlines(), second.splitlines()) if a != b]
    assert len(failing_html.splitlines()) == len(second.splitlines())
    assert len(diff) == 1 and "<time>" in diff[0][0]


def test_renders_identically_from_saved_json(failing_html):
    saved = json.dumps(samples.failing_suite().to_dict(), allow_nan=False)
    assert render_html(SuiteResult.from_dict(json.loads(saved))) == failing_html


def test_the_banner_is_the_suites_one_verdict_and_names_every_wrong_gradient(failing_html):
    suite = samples.failing_suite()
    start = failing_html.index('id="verdict"')
    banner = failing_html[start:failing_html.index("</div>", start)]
    assert "FAILED" in banner and "match" not in banner
    assert str(escape(suite.verdict.reason)) in banner
    assert "wrong gradient for b1, W2 (check_gradients_batch20, check_gradients_batch_missing_classes)" \
        in html_lib.unescape(banner)


def test_cards_rank_failures_then_warnings_then_notes_each_once_per_parameter(failing_html):
    html = failing_html
    failures, warnings, notes = (_section(html, tier) for tier in ("errors", "warnings", "infos"))
    assert html.index('id="errors"') < html.index('id="warnings"') < html.index('id="infos"') \
        < html.index('id="gradients"')
    # b1's reduction failed two gradient checks: one card, naming both
    assert failures.count("<code>b1</code>") == 1
    assert 'href="#check-check_gradients_batch20"' in failures
    assert 'href="#check-check_gradients_batch_missing_classes"' in failures
    assert failures.count("where analytic and numeric disagree") == 2  # one heatmap per parameter
    assert "np.sum(dZ, axis=0)." in failures  # the hint in words
    assert "inputs 255x larger spoil training" in warnings and 'class="card warning"' in warnings
    assert "<details>" in notes and "sit on a kink" in notes and 'class="card info"' in notes


def test_passing_suite_says_passed_and_has_no_cards():
    html = render_html(samples.passing_suite())
    assert '<span class="word">PASSED</span>' in html
    assert 'id="errors"' not in html and 'id="warnings"' not in html


def test_a_row_whose_values_are_right_but_which_fails_says_why_in_its_verdict():
    shape = samples.finding("W2", "W2: dW2 has the transposed shape (3, 8) of W2 (8, 3); transposed "
                            "back, its values are correct", "multiply in the other order",
                            kind="shape")
    grads = samples.gradients([samples.param("W2", (8, 3), rel=4e-10, findings=[shape],
                                             tier="excellent")])
    html = render_html(samples.suite("t", [samples.outcome("check_gradients_batch8", grads)]))
    row = re.search(r"<tr class=\"fail\">.*?</tr>", html, re.S).group(0)
    assert "excellent" in row and "FAIL (shape)" in row


def test_failing_parameter_without_error_map_explains_missing_heatmap():
    grads = samples.gradients([samples.param("W1", (4, 4), n_checked=5,
                                             findings=[samples.finding("W1", "m", "h")])])
    html = render_html(samples.suite("t", [samples.outcome("check_gradients_batch8", grads)]))
    assert "No heatmap: 5 of 16 entries were checked" in html


def test_probe_and_training_charts_are_inline_svg(failing_html):
    # softmax x1 (its row sums), layer statistics x2 (bar), input scale x1 (grouped),
    # training x2, heatmaps x2; the passing softmax's rounding is a sentence, not a chart
    assert len(SVG.findall(failing_html)) == 8
    assert "max abs row sum error: at most 2e-16 for every magnitude" in failing_html
    assert "breaks at magnitude 711" in failing_html


def test_a_passing_probe_shows_no_breaking_magnitude():
    probe = samples.layer_probe()
    probe = dataclasses.replace(probe, breaking_magnitude=1.0)
    html = render_html(samples.suite("t", [samples.outcome("check_training_activations", probe)]))
    assert "breaks at" not in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_user_text_is_escaped_everywhere(payload, payload_html):
    html = payload_html(payload)
    assert payload not in html
    assert str(escape(payload)) in html  # shown as text, not dropped
    assert html.count("<script") == 1  # only our own sorting script
    assert not re.search(r"<img\b", html)


def test_user_text_is_not_evaluated_as_a_template():
    html = render_html(samples.suite_with_payload("{{ 7*7 }}{% raw %}"))
    assert "<title>gradcheck: FAILED — {{ 7*7 }}{% raw %}</title>" in html


def test_only_script_is_the_one_the_csp_allows(failing_html):
    html = failing_html
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    csp = html_lib.unescape(
        re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert len(scripts) == 1 and f"'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp


def test_page_is_self_contained_and_small(failing_html):
    html = failing_html
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    assert "@import" not in html and "url(http" not in html
    assert len(html.encode("utf-8")) < 1_500_000


def test_write_html_creates_directories_and_returns_path(tmp_path):
    path = write_html(samples.passing_suite(), tmp_path / "reports" / "ref.html")
    assert path.read_text(encoding="utf-8") == render_html(samples.passing_suite())


def test_write_html_to_unwritable_place_raises_report_write_error(tmp_path):
    (tmp_path / "reports").write_text("a file, not a directory")
    with pytest.raises(ReportWriteError, match="reports"):
        write_html(samples.passing_suite(), tmp_path / "reports" / "ref.html")


def test_a_failing_probe_alone_is_summarised_at_the_top(probe_failing_html):
    html = probe_failing_html
    top = _section(html, "errors")
    assert 'href="#check-check_shapes_any_batch_size"' in top
    assert "returned shape (4, 3) for 5 examples" in top
    banner = html_lib.unescape(html[html.index('id="verdict"'):html.index("<nav>")])
    assert "FAILED" in banner and "1 of 3 stability probes failed: shapes" in banner


def test_sentences_instead_of_charts_of_constants_flags_and_rounding(probe_failing_html):
    html = html_lib.unescape(probe_failing_html)
    assert "dead after training: 0 for every layer (dense1, relu1, dense2)" in html
    assert "passed: no for batch size 5; yes for the others." in html  # not a pass/fail chart
    order = _card(probe_failing_html, "check-check_loss_example_order")
    assert "<svg" not in order and "within its tolerance" in order  # rounding under its line
