"""The pytest plugin's entry point: hooks only, the library imported inside them when used.

    pytest --gradcheck-target=path/to/student.py:target

pytest loads this module in every run of an environment where gradcheck is installed, so it
imports only the option table (:mod:`gradcheck.options`): a run that uses no ``--gradcheck-*``
option (and no ``GRADCHECK_TARGET``) loads nothing else of gradcheck. When one is used, the
collector, items and report of :mod:`gradcheck.frontends.pytest_suite` are registered as a plugin
of their own. ``parametrize_with_checks`` (for your own test files) is reachable here too.
"""

from __future__ import annotations

import os

import pytest

from gradcheck.options import LAYOUTS, OPTIONS, PLUGIN_PREFIX, TARGET_VARIABLE, flag


def pytest_addoption(parser):
    group = parser.getgroup("gradcheck", "gradient checks of a network under test")
    group.addoption("--gradcheck-target", default=None,
                    help="package.module:attr, path/file.py:attr or notebook.ipynb:attr to run "
                         "the checks on; FILE:name or FILE:* for function-pair layers "
                         f"(default: ${TARGET_VARIABLE})")
    for option in OPTIONS:
        group.addoption(flag(option.name, PLUGIN_PREFIX), dest=f"gradcheck_{option.name}",
                        type=option.parse, default=None, choices=option.choices, help=option.help)
    group.addoption("--gradcheck-layout", default=None, choices=LAYOUTS,
                    help="examples as rows or columns of X (default: declared, else detected)")
    group.addoption("--gradcheck-xfail", action="append", default=[], metavar="CHECK",
                    help="mark this check as an expected failure (repeatable)")
    group.addoption("--gradcheck-html", default=None, metavar="PATH",
                    help="write an HTML report of the checks' results to PATH")


def _used(config) -> bool:
    """Whether this run asks for gradcheck at all."""
    return bool(config.getoption("gradcheck_target", None) or os.environ.get(TARGET_VARIABLE)
                or config.getoption("gradcheck_html", None))


def pytest_configure(config):
    if _used(config):
        from gradcheck.frontends import pytest_suite

        pytest_suite.configure(config)
        config.pluginmanager.register(pytest_suite, "gradcheck-checks")


@pytest.fixture
def gradcheck_target(request):
    """The target named by --gradcheck-target (or $GRADCHECK_TARGET), loaded and validated."""
    if not (request.config.getoption("gradcheck_target", None) or os.environ.get(TARGET_VARIABLE)):
        pytest.skip("no --gradcheck-target given")
    from gradcheck.frontends.pytest_suite import loaded_target

    return loaded_target(request.config)


def __getattr__(name: str):
    if name in ("parametrize_with_checks", "ConformanceFailure"):
        from gradcheck.frontends import pytest_suite

        return getattr(pytest_suite, name)
    raise AttributeError(f"module 'gradcheck.pytest_plugin' has no attribute {name!r}")
