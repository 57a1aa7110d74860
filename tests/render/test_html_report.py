"""The HTML page: gold file, determinism, renderer-only, escaping, self-containment, writing."""

from __future__ import annotations

import base64
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
from gradcheck.report import Report
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


@pytest.mark.parametrize("name", ["failing", "passing"])
def test_matches_gold_file(name, failing_html):
    html = _scrub(failing_html if name == "failing" else render_html(samples.passing_report()))
    gold = GOLD / f"{name}.html"
    if os.environ.get("GRADCHECK_REGEN_GOLD") == "1":
        gold.write_text(html, encoding="utf-8")
    expected = gold.read_text(encoding="utf-8")
    assert html == expected, f"if intended, rerun with GRADCHECK_REGEN_GOLD=1 ({gold})"


def test_same_report_gives_same_page_except_timestamp_line(failing_html):
    first = failing_html
    second = render_html(samples.failing_report(created="2026-02-02T12:00:00+00:00"))
    diff = [(a, b) for a, b in zip(first.splitlines(), second.splitlines()) if a != b]
    assert len(first.splitlines()) == len(second.splitlines())
    assert len(diff) == 1 and "<time>" in diff[0][0]


def test_renders_identically_from_saved_json(failing_html):
    saved = json.dumps(samples.failing_report().to_dict(), allow_nan=False)
    assert render_html(Report.from_dict(json.loads(saved))) == failing_html


def test_verdict_summary_and_diagnosis_are_on_the_page(failing_html):
    html = failing_html
    verdict = html.index('id="verdict"')
    assert "FAIL" in html[verdict:verdict + 200]
    assert "2 of 4 gradients are wrong: b1, W2" in html
    assert "np.sum(dZ, axis=0)." in html  # the hint in words
    assert html.count("where analytic and numeric disagree") == 2  # one heatmap per failing param
    assert html.index('id="diagnosis"') < html.index('id="gradients"')


def test_passing_report_says_pass_and_has_no_diagnosis():
    html = render_html(samples.passing_report())
    assert '<span class="word">PASS</span>' in html
    assert 'id="diagnosis"' not in html


def test_failing_parameter_without_error_map_explains_missing_heatmap():
    grads = samples.gradients([samples.param("W1", (4, 4), passed=False, n_checked=5,
                                             findings=[samples.finding("W1", "m", "h")])])
    html = render_html(Report.build("t", gradients=grads, created=samples.CREATED))
    assert "No heatmap: 5 of 16 entries were checked" in html


def test_probe_and_training_charts_are_inline_svg(failing_html):
    html = failing_html
    # softmax x2, layer statistics x2 (bar), input scale x1 (grouped), training x2, heatmaps x2
    assert len(SVG.findall(html)) == 9
    assert "breaks at 711" in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_user_text_is_escaped_everywhere(payload, payload_html):
    html = payload_html(payload)
    assert payload not in html
    assert str(escape(payload)) in html  # shown as text, not dropped
    assert html.count("<script") == 1  # only our own sorting script
    assert not re.search(r"<img\b", html)


def test_user_text_is_not_evaluated_as_a_template():
    html = render_html(samples.report_with_payload("{{ 7*7 }}{% raw %}"))
    assert "<title>gradcheck: FAIL — {{ 7*7 }}{% raw %}</title>" in html


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
    path = write_html(samples.passing_report(), tmp_path / "reports" / "ref.html")
    assert path.read_text(encoding="utf-8") == render_html(samples.passing_report())


def test_write_html_to_unwritable_place_raises_report_write_error(tmp_path):
    (tmp_path / "reports").write_text("a file, not a directory")
    with pytest.raises(ReportWriteError, match="reports"):
        write_html(samples.passing_report(), tmp_path / "reports" / "ref.html")


def test_a_failing_probe_alone_is_summarised_at_the_top(probe_failing_html):
    html = probe_failing_html
    top = html[html.index('id="diagnosis"'):html.index('id="gradients"')]
    assert "What is wrong" in top and 'href="#probe-0"' in top
    assert "returned shape (4, 3) for 5 examples" in top


def test_words_instead_of_empty_axes_and_marks_instead_of_boolean_lines(probe_failing_html):
    html = probe_failing_html
    assert "dead after training: 0 for every layer (dense1, relu1, dense2)" in html
    assert "shapes: passed" in html  # the pass/fail chart
    order = html[html.index('id="probe-1"'):html.index('id="probe-2"')]
    assert "tolerance" in order  # the reordering chart carries its tolerance line
