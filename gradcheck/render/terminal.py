"""Plain-text rendering of a gradient check for the terminal."""

from __future__ import annotations


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
            p.name,
            "x".join(str(s) for s in p.shape) or "scalar",
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
            out.append(f"{marker} {f.message}")
            if f.hint:
                out.append(f"   {f.hint}")
    for note in result.notes:
        out.append(f"note: {note}")
    out.append("")
    if result.passed:
        out.append(f"PASSED: all {len(result.params)} parameters agree with finite differences")
    else:
        out.append(f"FAILED: wrong gradient for {', '.join(result.failed) or 'the loss'}")
    return "\n".join(out)


def format_probe_suite(suite) -> str:
    """One line per probe (verdict, check name, what it does), its findings, then the verdict."""
    out = []
    for name, description, result in suite.entries:
        verdict = "pass" if result.passed else "FAIL"
        out.append(f"{verdict:4}  {name}: {description}")
        for f in result.findings:
            if f.severity == "info" and result.passed:
                continue
            marker = "!!" if f.is_failure else "--"
            out.append(f"      {marker} {f.message}")
            if f.hint and f.severity != "info":
                out.append(f"         {f.hint}")
    out.append("")
    if suite.passed:
        out.append(f"PASSED: all {len(suite.entries)} stability probes")
    else:
        out.append(f"FAILED: {len(suite.failed)} of {len(suite.entries)} stability probes: "
                   f"{', '.join(suite.failed)}")
    return "\n".join(out)
