"""Prints what the current checker calls each bug of the shapes corpus (finding kinds)."""


def pytest_terminal_summary(terminalreporter):
    from tests.corpus.shapes.test_shapes_corpus import OBSERVED_KINDS

    if not OBSERVED_KINDS:
        return
    terminalreporter.section("shapes corpus: finding kinds per bug (float64, full mode)")
    width = max(len(name) for name in OBSERVED_KINDS)
    for name, kinds in OBSERVED_KINDS.items():
        terminalreporter.write_line(f"{name:<{width}}  {', '.join(kinds) or '(passed)'}")
