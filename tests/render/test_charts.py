"""Charts: deterministic, small, inline-ready SVG with user labels escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from gradcheck.render import charts

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)> $\\alpha$ & co'
SVG_NS = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]


CHARTS = {
    "line": lambda label: charts.line_chart([(label, [1, 2, 3], [1.0, None, 0.5])], title=label,
                                            xlabel=label, ylabel=label, marks=[(label, 2.0)]),
    "heatmap": lambda label: charts.heatmap([[0.0, 1.0], [0.5, None]], title=label, xlabel=label),
    "bar": lambda label: charts.bar_chart([label, "b"], [(label, [0.1, 0.2]), ("g", [1, 2])],
                                          title=label),
}


@pytest.mark.parametrize("kind", CHARTS)
def test_same_input_gives_byte_identical_svg(kind):
    assert CHARTS[kind]("W1") == CHARTS[kind]("W1")


@pytest.mark.parametrize("kind", CHARTS)
def test_user_labels_are_escaped_text_never_markup_or_mathtext(kind):
    svg = CHARTS[kind](PAYLOAD)
    assert "<script" not in svg and "<img" not in svg
    assert "&lt;script&gt;" in svg
    assert PAYLOAD in _texts(svg)  # drawn verbatim: no mathtext, nothing dropped


@pytest.mark.parametrize("kind", CHARTS)
def test_svg_is_inline_ready_without_xml_prolog(kind):
    svg = CHARTS[kind]("W1")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<!DOCTYPE" not in svg and "<?xml" not in svg


def test_salt_prefixes_ids_and_their_references_so_charts_can_share_a_page():
    a = charts.heatmap([[1.0, 2.0]], salt="one")
    b = charts.heatmap([[1.0, 2.0]], salt="two")
    ids = [set(re.findall(r' id="([^"]+)"', s)) for s in (a, b)]
    assert ids[0] and not ids[0] & ids[1]
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', a))
    assert refs and refs <= ids[0]  # every reference still points at an element


def test_largest_charts_stay_small():
    rng = np.random.default_rng(0)
    big_heatmap = charts.heatmap(rng.random((64, 64)).tolist())
    long_line = charts.line_chart([(f"run {i}", list(range(2000)), rng.random(2000).tolist())
                                   for i in range(2)])
    assert len(big_heatmap) < 40_000
    assert len(long_line) < 40_000


def test_non_finite_points_are_flagged_in_the_legend():
    svg = charts.line_chart([("loss", [1, 2, 3], [1.0, 2.0, None])])
    assert "non-finite" in _texts(svg)


def test_heatmap_rejects_a_grid_that_is_not_2d():
    with pytest.raises(ValueError, match="expected a non-empty 2-D grid"):
        charts.heatmap([])


def test_bar_chart_of_all_zeros_starts_at_zero():
    import re

    from gradcheck.render import charts

    svg = charts.bar_chart(["dense1", "relu1"], [("dead", [0.0, 0.0])], title="dead units")
    # tick labels of the y axis: 0.0 up to 1.0, none negative
    assert "1.0" in svg
    assert not re.search(r"−0\.0[1-9]", svg)


def _tick_labels(svg: str) -> list[str]:
    return [t for t in _texts(svg) if re.fullmatch(r"[−\-0-9.]+", t)]


def test_whole_number_x_gets_whole_number_ticks():
    svg = charts.line_chart([("", [1, 2, 3], [0.5, 0.25, 0.125])], xlabel="permutation")
    labels = _tick_labels(svg)
    assert {"1", "2", "3"} <= set(labels)
    assert not [t for t in labels if t in {"1.25", "1.5", "2.5", "1.0", "2.0"}]


def test_a_tolerance_line_is_drawn_and_named():
    noise = [2e-16, 0.0, 1.1e-16]
    with_line = charts.line_chart([("", [1, 2, 3], noise)],
                                  thresholds=[("tolerance", [1, 2, 3], [1e-8] * 3)])
    without = charts.line_chart([("", [1, 2, 3], noise)])
    assert "tolerance" in _texts(with_line) and "tolerance" not in _texts(without)
    assert charts.THRESHOLD_COLOR.lower() in with_line.lower()


def test_pass_fail_marks_instead_of_a_line_on_a_flat_axis():
    svg = charts.pass_fail_chart([1, 2, 3, 5], [True, True, False, True], title="shapes: passed",
                                 xlabel="batch size")
    texts = _texts(svg)
    assert "pass" in texts and "fail" in texts
    assert not [t for t in _tick_labels(svg) if t in {"0.96", "0.98", "1.02", "1.04", "2.5"}]


def test_the_palette_is_distinct():
    assert len(set(charts.COLORS)) == len(charts.COLORS)
    # Okabe-Ito: no two of the first seven colours are shades of blue
    blues = [c for c in charts.COLORS if int(c[5:7], 16) > int(c[1:3], 16) + 60
             and int(c[5:7], 16) > int(c[3:5], 16) + 30]
    assert len(blues) <= 2
