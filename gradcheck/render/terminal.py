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


def format_gradient_result(result) -> str:
    """A table (one row per parameter), then every finding with its hint, then the verdict."""
    header = ("param", "shape", "checked", "max abs err", "max rel err", "tier", "verdict")
    rows = [
        (
            printable(p.name),
            format_shape(p.shape),
            str(p.n_checked),
            _num(p.max_abs_error),
            _num(p.max_rel_error),
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
            marker = "!!" if f.is_failure else "--"
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
        marker = "!!" if f.is_failure else "--"
        out.append(f"{indent}{marker} {_line(f.message)}")
        if f.hint and f.severity != "info":
            out.append(f"{indent}   {_line(f.hint)}")
    return out


def format_suite(suite: SuiteResult, *, verbose: bool = False) -> str:
    """Every check: a verdict line, then its gradient table or probe findings; then the verdict.

    A gradient check that passes is one line; a failing one shows its table and findings.
    ``verbose`` shows every gradient table and every finding, notes included.
    """
    out = []
    for outcome in suite.outcomes:
        verdict = {"passed": "pass", "failed": "FAIL", "error": "ERROR", "skipped": "skip"}[outcome.status]
        out.append(f"{verdict:5} {outcome.name}: {outcome.description}")
        result = outcome.result
        if outcome.status == "error":
            out.append(f"      !! {_line(outcome.error)}")
        elif outcome.status == "skipped":
            out.append(f"      skipped: {_line(outcome.skip_reason)}")
        elif isinstance(result, GradientCheckResult):
            if verbose or not result.passed:
                out.extend("      " + line if line else "" for line in
                           format_gradient_result(result).splitlines())
                out.append("")
        else:
            out.extend(_finding_lines(result.findings, result.passed and not verbose, "      "))
    out.append("")
    n = len(suite.outcomes)
    skipped = [o.name for o in suite.outcomes if o.status == "skipped"]
    if suite.passed and skipped:
        out.append(f"PASSED: {n - len(skipped)} of {n} checks of {printable(suite.target)}, "
                   f"{len(skipped)} skipped: {', '.join(skipped)}")
    elif suite.passed:
        out.append(f"PASSED: all {n} checks of {printable(suite.target)}")
    else:
        out.append(f"FAILED: {len(suite.failed)} of {n} checks: {', '.join(suite.failed)}")
    return "\n".join(out)


TEXT_RENDERERS[GradientCheckResult] = format_gradient_result
TEXT_RENDERERS[SuiteResult] = format_suite
