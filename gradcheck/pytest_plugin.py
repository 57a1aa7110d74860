"""pytest plugin: run gradcheck's conformance suite against someone else's network.

    pytest --gradcheck-target=path/to/student.py:target

collects one test item per check (``check_gradients_batch1``, ...), each failing with the
diagnosis. ``GRADCHECK_TARGET`` in the environment does the same. For your own test files,
``gradcheck.pytest_plugin.parametrize_with_checks`` turns the suite into parametrized tests.
"""

from __future__ import annotations

import json
import os

import pytest

from gradcheck.conformance import ConformanceFailure, iter_checks
from gradcheck.errors import GradcheckError
from gradcheck.targets.builders import dtype_builder
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
    group.addoption("--gradcheck-html", default=None, metavar="PATH",
                    help="write an HTML report of the conformance suite's results to PATH")


RESULT_PROPERTY = "gradcheck_result"
_LABEL = pytest.StashKey[str]()


def _raw(spec: str):
    return load_object(spec)


def _load(spec: str):
    return as_target(_raw(spec), label=spec)


class _HtmlReport:
    """Collects every check's result (from this process or an xdist worker) and writes HTML."""

    def __init__(self, config, path: str):
        self.config, self.path = config, path
        self.results: dict[str, dict] = {}

    def pytest_runtest_logreport(self, report):
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == RESULT_PROPERTY:
                self.results[report.nodeid.rsplit("::", 1)[-1]] = json.loads(value)

    def pytest_sessionfinish(self, session):
        from gradcheck.environment import collect_environment
        from gradcheck.render.html_report import write_html
        from gradcheck.report import report_from_checks

        label = self.config.stash.get(_LABEL, "conformance suite")
        environment = collect_environment(
            seed=self.config.getoption("gradcheck_seed"), dtype=None,
            argv=["pytest", *self.config.invocation_params.args])
        report = report_from_checks(label, self.results, environment=environment)
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        try:
            written = write_html(report, self.path)
        except GradcheckError as exc:  # the directory went away during the run
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            if reporter is not None:
                reporter.write_line(f"gradcheck: no HTML report: {exc}", red=True)
            return
        if reporter is not None:
            reporter.write_line(f"gradcheck: HTML report written to {written}")


def pytest_configure(config):
    path = config.getoption("gradcheck_html", None)
    if path and not hasattr(config, "workerinput"):  # only the controller writes the file
        from gradcheck.render.atomic import check_writable

        try:
            check_writable(path)  # before the suite runs, not after
        except GradcheckError as exc:
            raise pytest.UsageError(f"--gradcheck-html: {exc}") from exc
        config.pluginmanager.register(_HtmlReport(config, path), "gradcheck-html")


class GradcheckItem(pytest.Item):
    """One conformance check as a pytest item."""

    def __init__(self, *, check, **kwargs):
        super().__init__(**kwargs)
        self.check = check

    def runtest(self):
        result = None
        try:
            result = self.check()
        except ConformanceFailure as exc:
            result = exc.result
            raise
        finally:
            if result is not None and hasattr(result, "to_dict"):
                # user_properties travel from xdist workers to the controller, which writes HTML
                self.user_properties.append((RESULT_PROPERTY, json.dumps(result.to_dict())))

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
    config.stash[_LABEL] = spec
    checks = list(iter_checks(target, seed=config.getoption("gradcheck_seed"),
                              mode=config.getoption("gradcheck_mode"), build=dtype_builder(_raw(spec))))
    unknown = sorted(expected - {check.name for check in checks})
    if unknown:
        raise pytest.UsageError(f"--gradcheck-xfail: no check named {', '.join(unknown)}; the checks "
                                f"of {spec} are {', '.join(check.name for check in checks)}")
    for check in checks:
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
