"""Small deterministic SVG charts for the HTML report, drawn with matplotlib (no pyplot).

Each function is pure: data in, an ``<svg>`` string out (no XML prolog, ready to inline).
Output is byte-for-byte stable for the same input: fixed ``svg.hashsalt``, text kept as
``<text>`` (``svg.fonttype='none'``), no date or creator metadata. Labels are drawn as
plain text (mathtext off), and matplotlib escapes them in the SVG, so a parameter named
``<script>`` stays text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

#: Inches; small on purpose (each chart stays well under 40 KB).
FIGSIZE = (5.4, 3.0)
#: Longer lines are thinned to this many evenly spaced points (keeps the SVG small).
MAX_POINTS = 400
#: Okabe and Ito's colour-blind-safe palette (black last); line styles cycle too, so lines
#: stay apart in grey print.
COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
STYLES = ("-", "--", "-.", ":")
#: Tolerance and threshold lines.
THRESHOLD_COLOR = "#cf222e"

_RC = {
    "svg.fonttype": "none",
    "svg.image_inline": True,
    "text.usetex": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e1e4e8",
    "grid.linewidth": 0.6,
    "path.simplify": True,
}
_PROLOG = re.compile(r"\A.*?(?=<svg)", re.S)
# ids and references to them, only inside tags (text content has its "<" escaped)
_ID = re.compile(r'(<[^<>]*?\s(?:id="|xlink:href="#|href="#)|url\(#)')


def _floats(values: Sequence) -> np.ndarray:
    """Lists from JSON (None for NaN/inf) as a float array."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _thin(x: np.ndarray, y: np.ndarray, limit: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` evenly spaced points, first and last kept."""
    if len(x) <= limit:
        return x, y
    keep = np.unique(np.linspace(0, len(x) - 1, limit).round().astype(int))
    return x[keep], y[keep]


def _positive_span(arrays: Sequence[np.ndarray]) -> bool:
    """True when every finite value is positive and they span more than two decades."""
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.array([])
    return finite.size > 1 and bool(np.all(finite > 0)) and finite.max() / finite.min() > 100


def _svg(fig: Figure, salt: str) -> str:
    buffer = io.StringIO()
    with rc_context({**_RC, "svg.hashsalt": f"gradcheck-{salt}"}):
        FigureCanvasSVG(fig)
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = _PROLOG.sub("", buffer.getvalue()).strip()
    # matplotlib numbers ids per figure ("line2d_1"); prefix them so charts can share a page
    return _ID.sub(lambda m: f"{m.group(1)}{salt}-", svg)


def _plain(*texts) -> None:
    """Draw user-supplied labels as plain text: a ``$`` in a name is not mathtext."""
    for text in texts:
        text.set_parse_math(False)


def _label(ax, title: str, xlabel: str, ylabel: str, legend: bool) -> None:
    _plain(ax.set_title(str(title), loc="left", fontsize=10), ax.set_xlabel(str(xlabel)),
           ax.set_ylabel(str(ylabel)))
    if legend:
        _plain(*ax.legend(frameon=False, fontsize=8).get_texts())


def _figure(figsize=FIGSIZE) -> Figure:
    """A figure with one axes; call inside ``rc_context``."""
    fig = Figure(figsize=figsize, layout="constrained")
    fig.add_subplot()
    return fig


def _integer_valued(arrays: Sequence[np.ndarray]) -> bool:
    """True when every finite value is a whole number (counts: steps, permutations, sizes)."""
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.array([])
    return finite.size > 0 and bool(np.all(finite == np.round(finite)))


def line_chart(lines: Sequence[tuple[str, Sequence, Sequence]], *, title: str = "",
               xlabel: str = "", ylabel: str = "", logx: bool | None = None,
               logy: bool | None = None, marks: Sequence[tuple[str, float]] = (),
               thresholds: Sequence[tuple[str, Sequence, Sequence]] = (),
               salt: str = "line") -> str:
    """Lines ``(label, x, y)`` on one axes.

    Lines longer than :data:`MAX_POINTS` are thinned evenly. None/NaN/inf points leave gaps
    and are flagged with a red cross along the top edge ("non-finite"); ``marks`` are
    labelled vertical lines, e.g. ``[("breaks", 711.0)]``; ``thresholds`` are dashed
    tolerance lines ``(label, x, y)``, below which a value passes.
    ``logx``/``logy`` default to a log axis when all values are positive and span more than
    two decades. An x axis of whole numbers (steps, permutations) gets whole-number ticks.
    ``salt`` makes SVG ids unique when several charts share one page.
    """
    with rc_context(_RC):
        fig = _figure()
        ax = fig.axes[0]
        xs = [_floats(x) for _, x, _ in lines]
        ys = [_floats(y) for _, _, y in lines]
        for i, ((label, _, _), x, y) in enumerate(zip(lines, xs, ys)):
            marker = "o" if len(x) <= 25 else None
            ax.plot(*_thin(x, y), label=str(label), color=COLORS[i % len(COLORS)], linewidth=1.4,
                    linestyle=STYLES[(i // 2) % len(STYLES)], marker=marker, markersize=3)
        limit_ys = []
        for label, x, y in thresholds:
            tx, ty = _floats(x), _floats(y)
            limit_ys.append(ty)
            ax.plot(tx, ty, color=THRESHOLD_COLOR, linestyle=(0, (4, 3)), linewidth=1.1,
                    label=str(label), drawstyle="steps-mid" if len(tx) > 1 else "default")
        bad_x = np.concatenate([x[~np.isfinite(y)] for x, y in zip(xs, ys)]) if xs else []
        bad_x = _thin(bad_x, bad_x, 50)[0]
        if len(bad_x):
            ax.plot(bad_x, np.full(len(bad_x), 0.97), linestyle="none", marker="x",
                    color="#cf222e", markersize=6, transform=ax.get_xaxis_transform(),
                    label="non-finite", clip_on=False)
        for label, at in marks:
            ax.axvline(at, color="#cf222e", linestyle="--", linewidth=1.0, label=str(label))
        log_x = logx if logx is not None else _positive_span(xs)
        if log_x:
            ax.set_xscale("log")
        elif _integer_valued(xs):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if logy if logy is not None else _positive_span(ys + limit_ys):
            ax.set_yscale("log")
        legend = (len(lines) > 1 or bool(lines and lines[0][0]) or len(bad_x) > 0 or bool(marks)
                  or bool(thresholds))
        _label(ax, title, xlabel, ylabel, legend)
        return _svg(fig, salt)


def pass_fail_chart(x: Sequence, passed: Sequence[bool], *, title: str = "", xlabel: str = "",
                    salt: str = "passfail") -> str:
    """One mark per x: a green circle where it passed, a red cross where it failed (no y axis)."""
    xs = _floats(x)
    ok = np.array([bool(v) for v in passed])
    with rc_context({**_RC, "axes.grid": False}):
        fig = _figure((FIGSIZE[0], 1.5))
        ax = fig.axes[0]
        ax.plot(xs[ok], np.zeros(int(ok.sum())), linestyle="none", marker="o", markersize=8,
                color="#1a7f37", label="pass")
        ax.plot(xs[~ok], np.zeros(int((~ok).sum())), linestyle="none", marker="X", markersize=9,
                color=THRESHOLD_COLOR, label="fail")
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        if _integer_valued([xs]):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if _positive_span([xs]):
            ax.set_xscale("log")
        ax.set_ylim(-1, 1)
        _label(ax, title, xlabel, "", False)
        _plain(*ax.legend(frameon=False, fontsize=8, ncol=2, loc="upper right").get_texts())
        return _svg(fig, salt)


def heatmap(grid: Sequence[Sequence], *, title: str = "", xlabel: str = "column",
            ylabel: str = "row", colorbar_label: str = "|analytic − numeric|",
            salt: str = "heatmap") -> str:
    """A 2-D array (at most 64 x 64 cells; None for NaN) as a heatmap with a colour bar."""
    data = np.array([_floats(row) for row in grid], dtype=float)
    if data.ndim != 2 or data.size == 0:
        raise ValueError(f"grid: got shape {data.shape}, expected a non-empty 2-D grid")
    n_rows, n_cols = data.shape
    height = 1.6 if n_rows == 1 else 3.2
    with rc_context({**_RC, "axes.grid": False}):
        fig = _figure((FIGSIZE[0], height))
        ax = fig.axes[0]
        image = ax.imshow(np.ma.masked_invalid(data), cmap="Reds", aspect="auto",
                          interpolation="none", vmin=0.0)
        bar = fig.colorbar(image, ax=ax, shrink=0.9)
        bar.set_label(str(colorbar_label))
        _label(ax, title, xlabel, ylabel if n_rows > 1 else "", False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if n_rows == 1:
            ax.set_yticks([])
        if n_cols == 1:  # a column vector: one tick, not a fractional axis
            ax.set_xticks([0])
        return _svg(fig, salt)


def bar_chart(labels: Sequence[str], bars: Sequence[tuple[str, Sequence]], *, title: str = "",
              ylabel: str = "", logy: bool | None = None, salt: str = "bar") -> str:
    """Grouped bars: one group per label, one bar per ``(series label, values)``."""
    with rc_context(_RC):
        fig = _figure()
        ax = fig.axes[0]
        ys = [_floats(v) for _, v in bars]
        x = np.arange(len(labels))
        width = 0.8 / max(1, len(bars))
        for i, ((name, _), y) in enumerate(zip(bars, ys)):
            ax.bar(x + (i - (len(bars) - 1) / 2) * width, np.nan_to_num(y, nan=0.0), width,
                   label=str(name), color=COLORS[i % len(COLORS)])
        if _integer_valued(ys) and np.nanmax(np.concatenate([np.ravel(y) for y in ys])) > 1:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts, not fractions
        ax.set_xticks(x)
        _plain(*ax.set_xticklabels([str(label) for label in labels],
                                   rotation=30 if len(labels) > 6 else 0))
        if logy if logy is not None else _positive_span(ys):
            ax.set_yscale("log")
        elif not np.any(np.nan_to_num(np.concatenate([np.ravel(y) for y in ys]), nan=0.0)):
            ax.set_ylim(0.0, 1.0)  # all zeros (no dead units, say): show an empty axis from 0, not ±0.04
        _label(ax, title, "", ylabel, len(bars) > 1)
        return _svg(fig, salt)
