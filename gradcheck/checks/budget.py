"""Before a long check: estimate its duration from one loss evaluation and refuse when too long."""

from __future__ import annotations

from collections.abc import Callable

from gradcheck.errors import CheckTooSlowError
from gradcheck.numeric.selection import planned_evaluations, planned_seconds
from gradcheck.threads import blas_advice
from gradcheck.wording import words


def _two_figures(x: float) -> str:
    """``x`` to two significant figures without an exponent: 0.35, 2.5, 42, 150."""
    return f"{x:.0f}" if x >= 10 else f"{x:.2g}"


def format_duration(seconds: float) -> str:
    """A duration in the unit a person would use: "0.35 ms", "150 ms", "42 s", "2.5 min", "2.3 h"."""
    if seconds < 1e-3:
        return f"{_two_figures(seconds * 1e6)} µs"
    if seconds < 1:
        return f"{_two_figures(seconds * 1e3)} ms"
    if seconds < 120:
        return f"{_two_figures(seconds)} s"
    if seconds < 2 * 3600:
        return f"{_two_figures(seconds / 60)} min"
    return f"{_two_figures(seconds / 3600)} h"


def refuse_if_too_slow(seconds_per_call: float | None, sizes: list[int], *, mode: str, method: str,
                       samples: int | None, directions: int, max_seconds: float | None,
                       retime: Callable[[], float | None] | None = None, workers: int = 1) -> None:
    """Raise CheckTooSlowError when the planned loss calls x one call's time exceed ``max_seconds``.

    ``sizes`` are the parameters' entry counts; ``seconds_per_call`` is the measured time of
    one loss evaluation (None when unknown: nothing is refused). ``retime``, when given, times a
    few more calls and returns the fastest per-call time: it is asked before refusing, so a
    single slow call on a busy machine does not refuse a check that would be quick. ``workers``
    is how many loss evaluations run at once (``jobs``).
    """
    if max_seconds is None or not seconds_per_call:
        return
    evaluations = planned_evaluations(sizes, mode, method, samples, directions)
    estimate = planned_seconds(seconds_per_call, evaluations, workers)
    if estimate > max_seconds and retime is not None:
        seconds_per_call = retime() or seconds_per_call
        estimate = planned_seconds(seconds_per_call, evaluations, workers)
    if estimate <= max_seconds:
        return

    def cost(other_mode: str, **overrides) -> str:
        options = {"samples": samples, "directions": directions, **overrides}
        calls = planned_evaluations(sizes, other_mode, "central", options["samples"], options["directions"])
        return f"{calls:,} evaluations, about {format_duration(calls * seconds_per_call)}"

    say = words()
    off = f"{say.setting('max_seconds', None)} to run it anyway"
    if mode == "full":
        ways = [f"{say.setting('mode', 'sample')} (with {say.setting('samples', 64)}: "
                f"{cost('sample', samples=64)})",
                f"{say.setting('mode', 'directional')} ({cost('directional')})"]
        if say.offers("jobs"):
            ways.append(f"{say.setting('jobs', -1)} to use every core")
    elif mode == "sample":
        ways = [f"fewer {say.argument('samples')}",
                f"{say.setting('mode', 'directional')} ({cost('directional')})"]
    else:
        ways = [f"fewer {say.argument('directions')}"]
    fix = f"Use {', '.join(ways)}, or {off}."
    advice = blas_advice()  # what the front end did about BLAS threads decides what is true
    fix += f" {advice}" if advice else ""
    raise CheckTooSlowError(
        "mode",
        f"{mode!r} would take about {format_duration(estimate)} ({evaluations:,} loss "
        f"evaluations at {format_duration(seconds_per_call)} each{f', {workers} at a time' if workers > 1 else ''}), "
        f"over {say.setting('max_seconds', max_seconds)}.",
        fix,
        estimated_seconds=estimate,
        evaluations=evaluations,
        seconds_per_evaluation=seconds_per_call,
    )
