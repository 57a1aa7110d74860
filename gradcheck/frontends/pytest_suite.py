"""The pytest front end: gradcheck's checks against someone else's network, as test items.

    pytest --gradcheck-target=path/to/student.py:target

collects one test item per check of the engine (``student.py::check_gradients_batch1``, ...),
each failing with the diagnosis, and ends the terminal summary with the suite's one verdict.
``GRADCHECK_TARGET`` in the environment does the same. The options (``--gradcheck-mode``,
``--gradcheck-batch-size``, ...) are the command line's, from :data:`gradcheck.options.OPTIONS`,
so both run the same checks and give the same verdicts. pytest loads
:mod:`gradcheck.pytest_plugin`, which registers this module only in a run that uses it. For
your own test files, :func:`parametrize_with_checks` turns the checks into parametrized tests.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest

from gradcheck.config import CheckConfig, flag_words
from gradcheck.engine import ConformanceFailure, failure_text, iter_checks
from gradcheck.errors import GradcheckError, TargetError
from gradcheck.frontends.isolation import TargetGone
from gradcheck.frontends.session import LoadedTarget, config_for, sandboxed
from gradcheck.options import OPTIONS, PLUGIN_PREFIX, TARGET_VARIABLE, flag
from gradcheck.results import CheckOutcome, SuiteResult
from gradcheck.targets.loading import SOURCE_SUFFIXES
from gradcheck.targets.protocol import as_target
from gradcheck.threads import pin_blas
from gradcheck.wording import spoken_as

RESULT_PROPERTY = "gradcheck_outcome"
_LOADED = pytest.StashKey[object]()
_BLAS = pytest.StashKey[str]()
_CONFIG = pytest.StashKey[CheckConfig]()


def _flag(name: str) -> str:
    return flag(name, PLUGIN_PREFIX)


def _spec(config) -> str | None:
    return config.getoption("gradcheck_target", None) or os.environ.get(TARGET_VARIABLE)


def _config(config) -> CheckConfig:
    """The run's CheckConfig, made from the options once per process; a bad value is a usage error."""
    if _CONFIG not in config.stash:
        values = {option.name: config.getoption(f"gradcheck_{option.name}") for option in OPTIONS}
        try:
            with spoken_as(flag_words(PLUGIN_PREFIX)):
                config.stash[_CONFIG] = config_for(values, _flag)
        except GradcheckError as exc:
            raise pytest.UsageError(str(exc)) from exc
    return config.stash[_CONFIG]


def _loaded(config) -> LoadedTarget | GradcheckError:
    """The target, loaded once per process in a child process of its own (the user's file runs
    once, there, and never in this process), or the load error. The child lives until the run
    ends."""
    if _LOADED not in config.stash:
        child = contextlib.ExitStack()
        config.add_cleanup(child.close)
        try:
            config.stash[_LOADED] = child.enter_context(sandboxed(
                _spec(config), _config(config), layout=config.getoption("gradcheck_layout"),
                flag=_flag, adopt=False, build_dtype=config.getoption("gradcheck_dtype")))
        except GradcheckError as exc:
            config.stash[_LOADED] = exc
        except TargetGone as gone:
            config.stash[_LOADED] = TargetError(f"its process {gone.message} while it was being loaded")
    return config.stash[_LOADED]


def _node_name(spec: str, rootpath: Path) -> str:
    """``student.py`` for ``path/to/student.py:attr`` (``.ipynb`` too; relative to the root), else
    the spec."""
    location = spec.rsplit(":", 1)[0]
    if location.endswith(SOURCE_SUFFIXES):
        path = Path(location).resolve()
        try:
            return path.relative_to(rootpath).as_posix()
        except ValueError:
            return path.name
    return spec


class TargetChecks(pytest.Collector):
    """The checks of one target: collected as one node, so ids read ``student.py::check_...``."""

    def collect(self):
        loaded = _loaded(self.config)
        if isinstance(loaded, GradcheckError):
            yield _LoadFailure.from_parent(self, name="check_target_loads", error=loaded)
            return
        args = loaded.engine_arguments()
        del args["label"]
        for index, check in enumerate(iter_checks(loaded.target, _config(self.config), **args)):
            yield GradcheckItem.from_parent(self, name=check.name, check=check, index=index,
                                            label=loaded.label)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """Add the target's checks to the session's collection, so "collected N items" counts them."""
    report = yield
    spec = _spec(collector.config)
    if isinstance(collector, pytest.Session) and spec and report.passed:
        name = _node_name(spec, collector.config.rootpath)
        report.result.append(TargetChecks.from_parent(collector, name=name, nodeid=name))
    return report


class GradcheckItem(pytest.Item):
    """One check as a pytest item."""

    def __init__(self, *, check, index: int = 0, label: str = "", **kwargs):
        super().__init__(**kwargs)
        self.check = check
        self.index = index
        self.label = label

    def runtest(self):
        with spoken_as(flag_words(PLUGIN_PREFIX)):
            try:
                outcome = self.check.outcome()
            except TargetGone as gone:  # the target's process ended: this check (and the rest) cannot run
                outcome = CheckOutcome.could_not_run(self.check.name, self.check.group, self.check.description,
                                                     f"the target's process {gone.status}: {gone.message}",
                                                     subject=self.check.subject)
        # user_properties travel from xdist workers to the controller, which writes HTML
        self.user_properties.append((RESULT_PROPERTY, json.dumps(
            {"index": self.index, "target": self.label, "outcome": outcome.to_dict()})))
        _raise_or_skip(outcome)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"gradcheck: {self.name}"


def _raise_or_skip(outcome: CheckOutcome) -> None:
    """The one translation of a check's outcome to pytest: a failure raises with the diagnosis; a
    check that does not apply, or could not judge (inconclusive), is skipped with the reason."""
    if not outcome.passed:
        raise ConformanceFailure(failure_text(outcome), outcome.result)
    if outcome.status == "skipped":
        pytest.skip(outcome.skip_reason)
    if outcome.status == "inconclusive":
        pytest.skip(f"inconclusive: {outcome.undecided_reason}")


class _LoadFailure(pytest.Item):
    def __init__(self, *, error, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def runtest(self):
        raise ConformanceFailure(f"the target could not be loaded: {self.error}")

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)


def pytest_collection_modifyitems(session, config, items):
    expected = set(config.getoption("gradcheck_xfail"))
    if not expected:
        return
    ours = [item for item in items if isinstance(item, GradcheckItem)]
    unknown = sorted(expected - {item.name for item in ours})
    if unknown and ours:
        raise pytest.UsageError(f"--gradcheck-xfail: no check named {', '.join(unknown)}; the checks "
                                f"of {_spec(config)} are {', '.join(item.name for item in ours)}")
    for item in ours:
        if item.name in expected:
            item.add_marker(pytest.mark.xfail(reason="expected failure (--gradcheck-xfail)", strict=True))


class _SuiteCollector:
    """Gathers every check's outcome (from this process or an xdist worker) into one suite,
    whose one verdict ends the terminal summary, and which ``--gradcheck-html`` writes."""

    def __init__(self, config, html_path: str | None):
        self.config, self.html_path = config, html_path
        self.outcomes: dict[str, tuple[int, dict]] = {}
        self.label = ""

    def pytest_runtest_logreport(self, report):
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == RESULT_PROPERTY:
                data = json.loads(value)
                self.outcomes[report.nodeid] = (data["index"], data["outcome"])
                self.label = data.get("target") or self.label

    def suite(self) -> SuiteResult:
        from gradcheck.frontends.environment import collect_environment

        ordered = [outcome for _, outcome in sorted(self.outcomes.values(), key=lambda o: o[0])]
        checked = _config(self.config)
        environment = collect_environment(
            seed=checked.seed, dtype=checked.dtype,
            argv=["pytest", *self.config.invocation_params.args])
        # the label the items were collected under (in this process or an xdist worker)
        return SuiteResult(target=self.label or _spec(self.config) or "conformance suite",
                           config=checked.to_dict(),
                           outcomes=[CheckOutcome.from_dict(o) for o in ordered],
                           environment=environment)

    def pytest_terminal_summary(self, terminalreporter):
        if self.outcomes:
            verdict = self.suite().verdict
            terminalreporter.write_line(f"gradcheck: {verdict.headline}",
                                        red=verdict.status == "failed",
                                        yellow=verdict.status == "inconclusive",
                                        green=verdict.status == "passed")

    def pytest_sessionfinish(self, session):
        if self.html_path is None:
            return
        from gradcheck.render.html_report import write_html

        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        try:
            written = write_html(self.suite(), self.html_path)
        except GradcheckError as exc:  # the directory went away during the run
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            if reporter is not None:
                reporter.write_line(f"gradcheck: no HTML report: {exc}", red=True)
            return
        if reporter is not None:
            reporter.write_line(f"gradcheck: HTML report written to {written}")


def loaded_target(config):
    """The target of ``--gradcheck-target``, loaded once per process (the ``gradcheck_target``
    fixture's value); a load error is raised."""
    loaded = _loaded(config)
    if isinstance(loaded, GradcheckError):
        raise loaded
    return loaded.target


def configure(config):
    """What the entry point's ``pytest_configure`` does in a run that uses gradcheck."""
    if _spec(config):
        _config(config)  # a bad option is a usage error before anything runs
        # one BLAS thread per process (each xdist worker too), unless the environment sets a count
        pinned = contextlib.ExitStack()
        config.stash[_BLAS] = pinned.enter_context(pin_blas(os.environ))
        config.add_cleanup(pinned.close)
    path = config.getoption("gradcheck_html", None)
    if path is not None and not hasattr(config, "workerinput"):  # only the controller writes it
        from gradcheck.frontends.session import target_sources
        from gradcheck.render.atomic import check_writable, resolve_output

        spec = _spec(config)
        try:
            # absolute now: the target is imported later and may chdir
            path = resolve_output(path, argument="--gradcheck-html")
            check_writable(path, argument="--gradcheck-html",  # before the suite runs, not after
                           protected=target_sources(spec) if spec else ())
        except GradcheckError as exc:
            raise pytest.UsageError(f"--gradcheck-html: {exc}") from exc
    if not hasattr(config, "workerinput") and (_spec(config) or path is not None):
        config.pluginmanager.register(_SuiteCollector(config, path), "gradcheck-suite")


def pytest_report_header(config):
    if _BLAS in config.stash:
        return [f"gradcheck: {config.stash[_BLAS]}"]
    return None


class _SkippingCheck:
    """A check as the decorated test sees it: calling it fails, skips with the reason, or passes."""

    def __init__(self, check):
        self.check = check
        self.name = check.name

    def __call__(self):
        outcome = self.check.outcome()
        _raise_or_skip(outcome)
        return outcome.result

    def __getattr__(self, name):
        return getattr(self.check, name)

    def __repr__(self):
        return repr(self.check)


def parametrize_with_checks(target, *, xfail=None, config: CheckConfig | None = None, **options):
    """Decorator: one parametrized test per check of ``target`` (object or factory).

    ``config`` (a :class:`~gradcheck.config.CheckConfig`) or keyword options (``seed=0``,
    ``mode="directional"``, ...) set how the checks run. ``xfail`` maps check names to
    reasons for known failures::

        @parametrize_with_checks(make_net, xfail={"check_gradients_batch1": "no batch of one"})
        def test_my_net(check):
            check()
    """
    target = as_target(target, label="target")
    xfail = dict(xfail or {})
    params = []
    for check in iter_checks(target, config, **options):
        marks = [pytest.mark.xfail(reason=xfail[check.name], strict=True)] if check.name in xfail else []
        params.append(pytest.param(_SkippingCheck(check), id=check.name, marks=marks))
    unknown = set(xfail) - {p.id for p in params}
    if unknown:
        raise GradcheckError(f"xfail names unknown checks {sorted(unknown)}; the checks are "
                             f"{[p.id for p in params]}")
    return pytest.mark.parametrize("check", params)
