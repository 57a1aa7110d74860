"""Rendered pages shared by the tests that only read them: each is drawn once per test process.

Drawing the charts is most of a page's cost; the gold-file, escaping and browser tests read the
same pages, so they share these rather than drawing each again.
"""

from __future__ import annotations

import functools

import pytest

from gradcheck.render.html_report import render_html
from tests.render import samples


@pytest.fixture(scope="session")
def failing_html() -> str:
    """The page of :func:`samples.failing_suite` (read it; never change it)."""
    return render_html(samples.failing_suite())


@pytest.fixture(scope="session")
def probe_failing_html() -> str:
    """The page of :func:`samples.probe_failing_suite`: only probes fail."""
    return render_html(samples.probe_failing_suite())


@pytest.fixture(scope="session")
def payload_html():
    """``payload -> page`` of :func:`samples.suite_with_payload`, each page drawn once."""
    return functools.cache(lambda payload: render_html(samples.suite_with_payload(payload)))
