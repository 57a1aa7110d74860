"""Progress of a run on a terminal: a bar over the checks, and one over a long check's entries.

Drawn with tqdm on ``stream`` (stderr) only when it is a terminal, so logs, pipes and CI output
stay clean. :class:`SuiteProgress` plugs into :func:`gradcheck.engine.run_suite` through its
``on_start``, ``on_outcome`` and ``progress`` callbacks.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


def shows_progress(stream: TextIO) -> bool:
    """True when ``stream`` is a terminal (where a bar redraws in place)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


class SuiteProgress:
    """Bars for one suite: checks done out of ``total``, and entries of the running check.

    Use as a context manager; the bars are removed when it exits. Nothing is drawn when
    ``stream`` is not a terminal.
    """

    def __init__(self, total: int | None, *, stream: TextIO | None = None, label: str = "checks"):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = shows_progress(self.stream)
        self.total = total
        self.label = label
        self.checks: Any = None
        self.entries: Any = None

    def __enter__(self) -> SuiteProgress:
        if self.enabled:
            from tqdm import tqdm

            self.checks = tqdm(total=self.total, desc=self.label, unit="check", leave=False,
                               file=self.stream, dynamic_ncols=True)
        return self

    def __exit__(self, *exc_info) -> None:
        self._close_entries()
        if self.checks is not None:
            self.checks.close()
            self.checks = None

    def on_plan(self, checks) -> None:
        """Before the first check: how many there are (the bar's total)."""
        self.total = len(checks)
        if self.checks is not None:
            self.checks.reset(total=self.total)

    def on_start(self, check) -> None:
        """Before a check: name it on the bar."""
        if self.checks is not None:
            self.checks.set_postfix_str(check.name, refresh=True)

    def on_outcome(self, outcome) -> None:
        """After a check: one more done; its entries bar goes."""
        self._close_entries()
        if self.checks is not None:
            self.checks.update(1)

    def progress(self, done: int, total: int) -> None:
        """Entries of the running gradient check: ``done`` of ``total``."""
        if not self.enabled:
            return
        if self.entries is None or self.entries.total != total:
            from tqdm import tqdm

            self._close_entries()
            self.entries = tqdm(total=total, desc="entries", unit="entry", leave=False,
                                file=self.stream, dynamic_ncols=True, position=1)
        self.entries.update(done - self.entries.n)

    def _close_entries(self) -> None:
        if self.entries is not None:
            self.entries.close()
            self.entries = None


class StepProgress:
    """A bar over the steps of one long piece of work (``desc``, counted in ``unit``).

    ``update(done, total)`` is the callback to hand to the work; nothing is drawn when ``stream``
    is not a terminal. Use as a context manager; the bar is removed when it exits.
    """

    def __init__(self, desc: str, unit: str, *, stream: TextIO | None = None):
        self.stream = sys.stderr if stream is None else stream
        self.desc, self.unit = desc, unit
        self.bar: Any = None

    def __enter__(self) -> StepProgress:
        return self

    def update(self, done: int, total: int) -> None:
        if not shows_progress(self.stream):
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, leave=False,
                            file=self.stream, dynamic_ncols=True)
        self.bar.update(done - self.bar.n)

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
