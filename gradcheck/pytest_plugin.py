"""pytest plugin: run gradcheck's conformance suite against someone else's network.

    pytest --gradcheck-target=path/to/student.py:target

collects one test item per check (``check_gradients_batch1``, ...), each failing with the
diagnosis. ``GRADCHECK_TARGET`` in the environment does the same. For your own test files,
``gradcheck.pytest_plugin.parametrize_with_checks`` turns the suite into parametrized tests.
"""

from __future__ import annotations

import os

import pytest

from gradcheck.conformance import ConformanceFailure, iter_checks
from gradcheck.errors import GradcheckError
from gradcheck.targets.loading import load_object
from gradcheck.targets.protocol import as_target


def pytest_addoption(parser):
    group = parser.getgroup("gradcheck", "gradient checks of a network under test")
    group.addoption("--gradcheck-target", default=None,
                    help="package.module:attr or path/file.py:attr to run the conformance suite on "
                         "(default: $GRADCHECK_TARGET)")
    group.addoption("--gradcheck-mode", default="full", choices=["full", "sample", "directional"],
                    help="finite-difference mode of the gradient checks")
    group.addoption("--gradcheck-seed", type=int, default=0, help="seed of data and sampling")
    group.addoption("--gradcheck-xfail", action="append", default=[], metavar="CHECK",
                    help="mark this check as an expected failure (repeatable)")


def _load(spec: str):
    return as_target(load_object(spec), label=spec)


class GradcheckItem(pytest.Item):
    """One conformance check as a pytest item."""

    def __init__(self, *, check, **kwargs):
        super().__init__(**kwargs)
        self.check = check

    def runtest(self):
        self.check()

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"gradcheck: {self.name}"


class _LoadFailure(pytest.Item):
    def __init__(self, *, error, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def runtest(self):
        raise ConformanceFailure(f"the target could not be loaded: {self.error}")

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)


def pytest_collection_modifyitems(session, config, items):
    spec = config.getoption("gradcheck_target") or os.environ.get("GRADCHECK_TARGET")
    if not spec:
        return
    try:
        target = _load(spec)
    except GradcheckError as exc:
        items.append(_LoadFailure.from_parent(session, name="check_target_loads", error=exc))
        return
    expected = set(config.getoption("gradcheck_xfail"))
    for check in iter_checks(target, seed=config.getoption("gradcheck_seed"),
                             mode=config.getoption("gradcheck_mode")):
        item = GradcheckItem.from_parent(session, name=check.name, check=check)
        if check.name in expected:
            item.add_marker(pytest.mark.xfail(reason="expected failure (--gradcheck-xfail)", strict=True))
        items.append(item)


@pytest.fixture
def gradcheck_target(request):
    """The target named by --gradcheck-target (or $GRADCHECK_TARGET), loaded and validated."""
    spec = request.config.getoption("gradcheck_target") or os.environ.get("GRADCHECK_TARGET")
    if not spec:
        pytest.skip("no --gradcheck-target given")
    return _load(spec)


def parametrize_with_checks(target, *, xfail=None, seed=0, mode="full"):
    """Decorator: one parametrized test per conformance check of ``target`` (object or factory).

    ``xfail`` maps check names to reasons for known failures::

        @parametrize_with_checks(make_net, xfail={"check_gradients_batch1": "no batch of one"})
        def test_my_net(check):
            check()
    """
    target = as_target(target, label="target")
    xfail = dict(xfail or {})
    params = []
    for check in iter_checks(target, seed=seed, mode=mode):
        marks = [pytest.mark.xfail(reason=xfail[check.name], strict=True)] if check.name in xfail else []
        params.append(pytest.param(check, id=check.name, marks=marks))
    unknown = set(xfail) - {p.id for p in params}
    if unknown:
        raise GradcheckError(f"xfail names unknown checks {sorted(unknown)}; the checks are "
                             f"{[p.id for p in params]}")
    return pytest.mark.parametrize("check", params)
