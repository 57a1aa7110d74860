"""Plain-text rendering of results for the terminal: ``str()`` of every result type.

Importing this module registers its formatters in :data:`gradcheck.results.TEXT_RENDERERS`
(``gradcheck/__init__`` does), so ``print(result)`` works without the results importing it.
"""

from __future__ import annotations

from gradcheck.results import TEXT_RENDERERS, GradientCheckResult, SuiteResult
from gradcheck.results.findings import format_shape
from gradcheck.results.verdict import gradient_verdict
from gradcheck.text import printable, printable_text


def _line(text) -> str:
    """A message from (or naming) user code, kept on its one line: ``\n``, ANSI escapes and
    bidi overrides shown escaped, so it cannot forge or recolour gradcheck's own lines."""
    return printable_text(text, keep_newlines=False)


def _num(x) -> str:
    if x is None:
        return "-"
    x = float(x)
    if x != x:
        return "-"
    return f"{x:.2e}"


def rel_error_text(report) -> str:
    """The relative-error cell: "< noise" where every difference was within the loss's rounding
    noise (the relative error counts only differences above it, so it reads 0 while the
    absolute error is a few ulps), else the number."""
    read = report.get if isinstance(report, dict) else lambda key: getattr(report, key)
    rel, abs_error = read("max_rel_error"), read("max_abs_error")
    if rel == 0 and abs_error is not None and abs_error == abs_error and abs_error > 0:
        return "< noise"
    return _num(rel)


def format_gradient_result(result) -> str:
    """A table (one row per parameter), then every finding with its hint, then the verdict."""
    header = ("param", "shape", "checked", "max abs err", "max rel err", "tier", "verdict")
    rows = [
        (
            printable(p.name),
            format_shape(p.shape),
            str(p.n_checked),
            _num(p.max_abs_error),
            rel_error_text(p),
            p.tier,
            p.verdict,
        )
        for p in result.params
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    out = [
        f"gradient check: mode {result.mode}, {result.method} differences, dtype {result.dtype}, "
        f"{result.n_loss_evals} loss evaluations",
        line(header),
        line(["-" * w for w in widths]),
        *[line(r) for r in rows],
    ]
    findings = result.findings
    if findings:
        out.append("")
        for f in findings:
            marker = "!!" if f.is_failure else "??" if f.inconclusive else "--"
            out.append(f"{marker} {_line(f.message)}")
            if f.hint:
                out.append(f"   {_line(f.hint)}")
    for note in result.notes:
        out.append(f"note: {_line(note)}")
    out.append("")
    out.append(gradient_verdict(result))
    return "\n".join(out)


def _finding_lines(findings, passed: bool, indent: str) -> list[str]:
    out = []
    for f in findings:
        if f.severity == "info" and passed:
            continue
        marker = "!!" if f.is_failure else "??" if f.inconclusive else "--"
        out.append(f"{indent}{marker} {_line(f.message)}")
        if f.hint and f.severity != "info":
            out.append(f"{indent}   {_line(f.hint)}")
    return out


#: Check status -> the word its line starts with.
STATUS_WORDS = {"passed": "pass", "failed": "FAIL", "error": "ERROR", "skipped": "skip",
                "inconclusive": "INCONCLUSIVE"}


def format_suite(suite: SuiteResult, *, verbose: bool = False) -> str:
    """Every check: a verdict line, then its gradient table or probe findings; then the verdict.

    A gradient check that passes is one line; a failing one shows its table and findings.
    ``verbose`` shows every gradient table and every finding, notes included. A run over several
    targets is one table of targets (:func:`format_targets`). The last line is the suite's
    verdict headline (:mod:`gradcheck.results.verdict`), as every front end shows it.
    """
    if suite.targets:
        return format_targets(suite)
    out = []
    for outcome in suite.outcomes:
        out.append(f"{STATUS_WORDS[outcome.status]:5} {outcome.name}: {outcome.description}")
        result = outcome.result
        if outcome.status == "error":
            out.append(f"      !! {_line(outcome.error)}")
        elif outcome.status == "skipped":
            out.append(f"      skipped: {_line(outcome.skip_reason)}")
        elif outcome.status == "inconclusive" and not verbose:
            # not a pass: what could not be judged, and what would judge it, in the default output
            remedies = set()
            for f in (f for f in result.findings if f.inconclusive):
                out.append(f"      ?? {_line(f.message)}")
                if f.remedy not in remedies:  # the same remedy once per check
                    out.append(f"         {_line(f.remedy)}")
                    remedies.add(f.remedy)
        elif isinstance(result, GradientCheckResult):
            if verbose or not result.passed:
                out.extend("      " + line if line else "" for line in
                           format_gradient_result(result).splitlines())
                out.append("")
        else:
            out.extend(_finding_lines(result.findings, result.passed and not verbose, "      "))
    out.append("")
    out.append(suite.verdict.headline)
    return "\n".join(out)


def format_targets(suite: SuiteResult, width: int = 100) -> str:
    """target | verdict | what failed or why it could not be checked | time, one line per
    target, then the run's headline."""
    header = ("target", "verdict", "failing checks / reason", "time")

    def clipped(reason: str) -> str:
        reason = printable(reason.splitlines()[0] if reason else "")
        return reason[:width - 3] + "..." if len(reason) > width else reason

    lines = [(printable(t.target), t.verdict.label, clipped(t.verdict.reason),
              f"{float((t.worker or {}).get('seconds') or 0.0):.1f} s") for t in suite.targets]
    widths = [max(len(x[i]) for x in [header, *lines]) for i in range(3)]
    fmt = lambda x: "  ".join(f"{x[i]:<{widths[i]}}" for i in range(3)) + f"  {x[3]}"  # noqa: E731
    return "\n".join([fmt(header), *(fmt(x) for x in lines), "", suite.verdict.headline])


TEXT_RENDERERS[GradientCheckResult] = format_gradient_result
TEXT_RENDERERS[SuiteResult] = format_suite
