"""The one engine: named checks of a target, chosen by what it offers, run into one suite result.

The command line (``check``, ``probe``, ``report``), the pytest plugin and the Python API
are selections from :func:`iter_checks`; :func:`run_suite` runs a selection into a
:class:`gradcheck.results.SuiteResult`.

Checks come from families registered with :func:`register`: a family is a generator that
looks at the :class:`Context` (the target, the config, what the target offers) and yields
the :class:`Check` objects that apply, e.g. one ``check_<layer>`` per layer with forward and
backward, a ``check_softmax_stable`` only for a target with a ``softmax``. A family serves the
kind of target it ``needs``: a network (the protocol's ``params``, ``loss``, ``gradients``) or
a set of function-pair layers (``function_layers``, :mod:`gradcheck.adapters.function_pairs`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from gradcheck.adapters.function_pairs import offered_layers
from gradcheck.checks.function_layers import check_one_layer
from gradcheck.checks.layers import check_layer
from gradcheck.checks.pipeline import check_target_gradients, excuse_extra_terms
from gradcheck.checks.through_time import shrink_steps
from gradcheck.config import CheckConfig
from gradcheck.errors import GradcheckError, InvalidArgumentError, UserCodeError
from gradcheck.numeric.inmemory import InMemory
from gradcheck.probes.base import skipped_probe
from gradcheck.probes.contracts import BATCH_SIZES, probe_example_order, probe_shapes
from gradcheck.probes.functions import function_probe_calls
from gradcheck.probes.training import (
    probe_activations,
    probe_gradient_flow,
    probe_input_scale,
    probe_learning_rate,
    probe_precision,
)
from gradcheck.results import CheckOutcome, GradientCheckResult, SuiteResult
from gradcheck.targets.batches import describe, synthetic_batch
from gradcheck.targets.data import DataSet
from gradcheck.targets.inputs import input_spec
from gradcheck.targets.layers import layer_inputs, layer_views
from gradcheck.targets.protocol import OutOfProcess, target_params
from gradcheck.targets.shrinking import WIDER_POSITIONS, smallest_input
from gradcheck.targets.tasks import TASK_NAMES, Task, count_examples
from gradcheck.targets.usercode import UserCodeCrash
from gradcheck.threads import under_one_blas_thread

#: The groups of checks; ``gradcheck check`` runs the first, ``probe`` the second, the rest both.
GROUPS = ("gradients", "probes")
#: The groups each command of the command line runs (several targets' workers too).
COMMAND_GROUPS = {"check": ("gradients",), "probe": ("probes",), "report": ("gradients", "probes")}


class ConformanceFailure(AssertionError):
    """A check failed; its text is the diagnosis (what pytest shows).

    ``result`` is the failing check's result object, or None when the check could not run.
    """

    def __init__(self, message: str, result=None):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Check:
    """One named check of a target.

    ``name`` is the pytest id (``check_gradients_batch1``), so ``pytest -k`` selects one;
    ``run()`` returns a GradientCheckResult or ProbeResult (or raises a GradcheckError when the
    check cannot run).
    """

    name: str
    description: str
    group: str
    run: Callable[[], Any] = field(repr=False, compare=False)
    #: What a gradient check covers: "network", or a layer's name (see CheckOutcome.subject).
    subject: str = ""

    @under_one_blas_thread
    def outcome(self) -> CheckOutcome:
        """Run the check; a gradcheck error becomes an outcome of status "error"."""
        try:
            result = self.run()
        except GradcheckError as exc:
            return CheckOutcome.could_not_run(self.name, self.group, self.description, exc,
                                              subject=self.subject)
        except SystemExit as exc:
            # User code reached without a guarded call: still an error of the target, not an exit
            from gradcheck.targets.loading import exit_call, exit_site

            error = UserCodeError(f"the network called {exit_call(exc)} in {exit_site(exc)}; a "
                                  "network must not end the process")
            error.__cause__ = exc
            return CheckOutcome.could_not_run(self.name, self.group, self.description, error,
                                              subject=self.subject)
        return CheckOutcome.of(self.name, self.group, self.description, result, subject=self.subject)

    def __call__(self):
        """Run the check; return its result, or raise :class:`ConformanceFailure` with the diagnosis."""
        outcome = self.outcome()
        if not outcome.passed:
            raise ConformanceFailure(failure_text(outcome), outcome.result)
        return outcome.result


def failure_text(outcome: CheckOutcome) -> str:
    """What a failed check says: its name and description, then the result or the error."""
    if outcome.status == "error":
        return f"{outcome.name}: {outcome.error}"
    result = outcome.result
    body = str(result) if isinstance(result, GradientCheckResult) else "\n".join(
        str(f) for f in result.findings)
    return f"{outcome.name} ({outcome.description})\n{body}"


@dataclass
class Context:
    """What a run knows about its target, worked out once and shared by every family.

    ``data`` is the front end's own ``(X, y)`` (e.g. real MNIST for the reference network),
    used by the main gradient check and the training probes instead of a synthetic batch.
    ``dataset`` is the user's data (``--data``, or the target's ``example_batch()``): every
    batch of the run is drawn from it instead of being synthetic.
    ``build(dtype)`` makes the same network in another dtype, when the target allows it.
    """

    target: Any
    config: CheckConfig
    data: tuple[np.ndarray, np.ndarray] | None = None
    build: Callable[[Any], Any] | None = None
    layout_hint: str | None = None
    dataset: DataSet | None = None
    network_checks: dict[str, GradientCheckResult] = field(default_factory=dict)
    #: Called as a gradient check's entries are done, ``progress(done, total)`` (a progress bar).
    progress: Callable[[int, int], None] | None = None

    @cached_property
    def params(self) -> dict[str, np.ndarray]:
        return target_params(self.target)

    @cached_property
    def described(self) -> tuple[str, Task]:
        """(layout, task): declared by the target, else found by calling its loss."""
        return describe(self.target, seed=self.config.seed, layout=self.layout_hint,
                        dtype=self.config.np_dtype)

    @property
    def task(self) -> Task:
        return self.described[1]

    @property
    def n_classes(self) -> int:
        """The output width: classes for a classifier, outputs for the rest."""
        return self.task.n_outputs

    @cached_property
    def small(self) -> int:
        """The smallest batch that holds every class (at least 8)."""
        return max(8, 2 * self.n_classes)

    @property
    def batch_size(self) -> int:
        """Examples in the main gradient check: the config's, the data's, else :attr:`small`."""
        if self.data is not None:
            return count_examples(np.asarray(self.data[0]), self.layout)
        if self.dataset is not None:
            return min(self.config.batch_size or DATA_BATCH, self.dataset.n_examples)
        return self.config.batch_size or self.small

    @property
    def layout(self) -> str:
        return self.described[0]

    def batch(self, size: int, *, missing_classes: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of ``size`` examples in the target's layout: from the user's data when
        there is some, else synthetic."""
        if self.dataset is not None:
            return self.dataset.batch(size, seed=self.config.seed, layout=self.layout,
                                      task=self.task, dtype=self.config.np_dtype,
                                      missing_classes=missing_classes)
        X, y, _ = synthetic_batch(self.target, size, seed=self.config.seed, layout=self.layout,
                                  dtype=self.config.np_dtype, missing_classes=missing_classes,
                                  task=self.task)
        return X, y

    def gradients_on(self, name: str, make_batch: Callable[[], tuple]) -> GradientCheckResult:
        """The whole network's gradient check on one batch, run once per context."""
        if name not in self.network_checks:
            X, y = make_batch()
            self.network_checks[name] = check_target_gradients(
                self.target, X, y, batch_size=count_examples(np.asarray(X), self.layout),
                layout=self.layout, progress=self.progress, **self.config.gradient_options())
            # an unnamed failure of a network reading sequences: checked again on fewer steps
            self.network_checks[name] = shrink_steps(
                self.network_checks[name], self.target, X, y, task=self.task,
                spec=input_spec(self.target), layout=self.layout, seed=self.config.seed)
        return self.network_checks[name]

    def main_batch(self) -> tuple[np.ndarray, np.ndarray]:
        return self.data if self.data is not None else self.batch(self.batch_size)

    def training_batch(self) -> tuple[np.ndarray, np.ndarray]:
        if self.data is not None:
            return self.data
        size = max(self.small, 32)
        return self.batch(size if self.dataset is None else min(size, self.dataset.n_examples))


#: The kinds of target a family of checks can need.
NEEDS = ("network", "function_layers")


def target_kind(target) -> str:
    """"function_layers" for a target of function-pair layers, else "network"."""
    return "function_layers" if offered_layers(target) is not None else "network"


@dataclass(frozen=True)
class Family:
    """A registered generator of checks: ``make(context)`` yields the checks that apply to a
    target of the kind it ``needs``."""

    name: str
    group: str
    make: Callable[[Context], Iterable[Check]]
    needs: str = "network"


#: Examples in the main gradient check on the user's data when no batch size is given.
DATA_BATCH = 64

#: Every family of checks, in run order; :func:`register` appends to it.
REGISTRY: list[Family] = []


def register(group: str, *, needs: str = "network") -> Callable:
    """Decorator: add a generator ``make(context) -> checks`` to :data:`REGISTRY` under ``group``,
    for targets of the kind it ``needs`` (one of :data:`NEEDS`)."""
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}, got {group!r}")
    if needs not in NEEDS:
        raise ValueError(f"needs must be one of {NEEDS}, got {needs!r}")

    def add(make: Callable[[Context], Iterable[Check]]):
        REGISTRY.append(Family(make.__name__, group, make, needs))
        return make

    return add


# -- the families ----------------------------------------------------------------------------


@register("gradients")
def gradient_checks(ctx: Context) -> Iterator[Check]:
    """A batch of one, the main batch, and a batch lacking the top classes (``y.max() + 1``).

    The missing-classes batch is for multi-class targets of at least 3 classes; a target of
    another task has it listed as skipped, with the reason.
    """
    size, task = ctx.batch_size, ctx.task
    if task.has_classes:
        source = "every class" if size >= ctx.n_classes else f"{ctx.n_classes} classes"
    else:
        source = f"{TASK_NAMES[task.name]}, labels {task.label_text(ctx.layout)}"
    if ctx.data is not None or ctx.dataset is not None:
        source = "from the given data"
    batches = [("check_gradients_batch1", "one example", lambda: ctx.batch(1)),
               (f"check_gradients_batch{size}", f"{size} examples, {source}", ctx.main_batch)]
    if task.has_classes and ctx.n_classes >= 3:
        batches.append(("check_gradients_batch_missing_classes",
                        f"{ctx.small} examples, the top 2 of {ctx.n_classes} classes absent",
                        lambda: ctx.batch(ctx.small, missing_classes=2)))
    for name, description, make_batch in batches:
        yield Check(name, description, "gradients",
                    lambda name=name, make_batch=make_batch: ctx.gradients_on(name, make_batch),
                    subject="network")
    if not task.has_classes:
        reason = (f"the target does {TASK_NAMES[task.name]}, which has no class labels to leave "
                  "out of a batch")
        yield Check("check_gradients_batch_missing_classes", "skipped: no class labels", "gradients",
                    lambda: skipped_probe("missing classes", reason))


@register("gradients")
def layer_checks(ctx: Context) -> Iterator[Check]:
    """One ``check_layer`` per layer with forward and backward (examples as rows), each on the
    smallest corner of its input it takes as it takes the full one (:mod:`gradcheck.targets.shrinking`):
    a layer's own check is about its code, the network's checks cover the full size."""
    if ctx.layout != "rows":
        return
    views = layer_views(ctx.target)
    if not views:
        return
    options = ctx.config.gradient_options()
    seed = options.pop("seed")
    X = ctx.batch(ctx.small)[0]
    inputs: list[np.ndarray] = []

    def layer_input(i: int) -> np.ndarray:
        if not inputs:  # forward through every layer once, when the first layer check runs
            inputs.extend(layer_inputs(views, X))
        return inputs[i]

    for i, view in enumerate(views):
        def run(i=i, view=view):
            try:
                view.learn(layer_input(i), seed)  # its parameters, by what its forward and backward do
            except UserCodeCrash:
                pass  # check_layer calls the layer again and reports the crash as the layer's own
            shrunk = smallest_input(view, layer_input(i))
            result = check_layer(view.forward, view.backward, shrunk.X, view.params,
                                 param_grads=view.param_grads, seed=seed, progress=ctx.progress,
                                 layout="rows", input_gradient=view.input_gradient, **options)
            if shrunk.note:
                result.note(shrunk.note)
            if result.passed:
                return result
            if shrunk.note and _input_unexplained(result):
                result = _wider_look(view, layer_input(i), shrunk, result, seed, options)
            network = ctx.gradients_on(f"check_gradients_batch{ctx.batch_size}", ctx.main_batch)
            return excuse_extra_terms(result, network) if network.passed else result

        what = "input and parameter gradients" if view.input_gradient else \
            "parameter gradients, and its input's when its backward returns one"
        yield Check(f"check_{view.name}", f"{type(view.layer).__name__} on its own, {what}", "gradients", run,
                    subject=view.name)


def _input_unexplained(result: GradientCheckResult) -> bool:
    """The layer's input failed and its finding names no cause (``mismatch``)."""
    return any(f.is_failure and f.subject == "input" and f.kind == "mismatch" for f in result.findings)


def _wider_look(view, X: np.ndarray, shrunk, result: GradientCheckResult, seed: int,
                options: dict) -> GradientCheckResult:
    """The layer checked again on a wider corner of ``X`` (:data:`WIDER_POSITIONS` output positions
    along each axis it shrinks), taken in place of ``result`` only when it fails on the same
    arrays and names a cause for the input that the small corner could not: an error at an edge
    fills most of a small corner and only a band of a wider one. Runs only after a failure."""
    wider = smallest_input(view, X, positions=WIDER_POSITIONS)
    if wider.X.shape == shrunk.X.shape:
        return result
    again = check_layer(view.forward, view.backward, wider.X, view.params, param_grads=view.param_grads,
                        seed=seed, layout="rows", **options)
    if set(again.failed) != set(result.failed) or _input_unexplained(again):
        return result
    if wider.note:
        again.note(wider.note)
    again.note(f"its input's failure on the corner {tuple(shrunk.X.shape)} named no cause; checked "
               f"again on {tuple(wider.X.shape)}, where it does")
    return again


@register("gradients", needs="function_layers")
def function_layer_checks(ctx: Context) -> Iterator[Check]:
    """One ``check_<layer>`` per function-pair layer: a gradient check of its float arguments,
    named as its forward names them, on its own example arguments (or the kind's)."""
    options = ctx.config.gradient_options()
    seed = options.pop("seed")
    for layer in offered_layers(ctx.target):
        yield Check(f"check_{layer.name}", layer.functions, "gradients",
                    lambda layer=layer: check_one_layer(layer, seed=seed, dtype=ctx.config.np_dtype,
                                                        progress=ctx.progress, **options),
                    subject=layer.name)


@register("probes", needs="function_layers")
def function_layer_probes(ctx: Context) -> Iterator[Check]:
    """Function-pair layers have no stability probes: one skipped item says so (and why)."""
    yield Check("check_stability_probes", "skipped: function-pair layers", "probes",
                lambda: skipped_probe("stability probes", "the stability probes need a whole "
                                      "network (a loss on a batch); function-pair layers get "
                                      "their gradient checks, from gradcheck check"))


@register("probes")
def function_checks(ctx: Context) -> Iterator[Check]:
    """A stability probe for each function the target exposes (softmax, sigmoid, ...)."""
    calls = function_probe_calls(ctx.target, dtype=ctx.config.np_dtype, seed=ctx.config.seed,
                                 layout=ctx.layout)
    for attr, takes, run in calls:
        over = "logits" if takes == "logits" else f"{takes} from logits"
        yield Check(f"check_{attr}_stable", f"{attr} over {over} of growing magnitude, up to 1e4",
                    "probes", run)


@register("probes")
def contract_checks(ctx: Context) -> Iterator[Check]:
    """Shapes at batch sizes from 1 to 64 and the loss's independence of example order."""
    seed, dtype = ctx.config.seed, ctx.config.np_dtype
    sizes = tuple(sorted({*BATCH_SIZES, ctx.small}))
    batches = None if ctx.dataset is None else ctx.batch
    yield Check("check_shapes_any_batch_size",
                f"forward, loss and gradient shapes for batches of {', '.join(map(str, sizes))}",
                "probes", lambda: probe_shapes(ctx.target, batch_sizes=sizes, seed=seed, dtype=dtype,
                                               layout=ctx.layout, task=ctx.task, batches=batches))
    order_size = max(ctx.small, 16)
    if ctx.dataset is not None:
        order_size = min(order_size, ctx.dataset.n_examples)
    yield Check("check_loss_example_order",
                "the loss of a batch against the same examples reordered", "probes",
                lambda: probe_example_order(ctx.target, batch_size=order_size, seed=seed,
                                            dtype=dtype, layout=ctx.layout, task=ctx.task,
                                            batches=batches))


TRAINING_PROBES = (
    ("check_training_input_scale", "a few steps on inputs x1, x255, x1e4", probe_input_scale),
    ("check_training_learning_rate", "learning rates 1e-3 to 100, with and without clipping",
     probe_learning_rate),
    ("check_training_activations", "per-layer statistics and dead units", probe_activations),
    ("check_training_gradient_flow", "gradient size from first to last layer", probe_gradient_flow),
)


@register("probes")
def training_checks(ctx: Context) -> Iterator[Check]:
    """A few steps of gradient descent: input scale, learning rate, activations, gradient flow.

    The learning-rate probe's descent test is the run's verdict on the gradients only when no
    gradient check of the run judged them (``gradcheck probe``): then a test that cannot decide
    in float32 leaves the probe inconclusive."""
    spec = input_spec(ctx.target)
    for name, description, probe in TRAINING_PROBES:
        if probe is probe_input_scale and spec is not None and spec.is_int:
            yield Check(name, "skipped: integer inputs", "probes", lambda: skipped_probe(
                "input scale", "the target's inputs are token indices (its input_spec), which "
                "are not scaled"))
            continue
        if probe is probe_learning_rate:
            def run(probe=probe):
                judged = any(r.passed and not r.inconclusive for r in ctx.network_checks.values())
                return probe(ctx.target, *ctx.training_batch(), gradients_judged=judged)
        else:
            def run(probe=probe):
                return probe(ctx.target, *ctx.training_batch())
        yield Check(name, description, "probes", run)


@register("probes")
def precision_checks(ctx: Context) -> Iterator[Check]:
    """float32 against float64, when ``build(dtype)`` can make the same network in both."""
    if ctx.build is None:
        return

    def run():
        X, y = ctx.training_batch()
        return probe_precision(ctx.build(np.float64), ctx.build(np.float32), X, y)

    yield Check("check_precision_float32", "float32 against float64 loss and gradients", "probes",
                run)


# -- selections ------------------------------------------------------------------------------


def _config(config: CheckConfig | None, options: dict[str, Any]) -> CheckConfig:
    if config is not None and not isinstance(config, CheckConfig):
        raise InvalidArgumentError("config", f"got {type(config).__name__}, expected a CheckConfig "
                                   "or None.", "Pass config=CheckConfig(mode='sample'), or the "
                                   "options as keywords.")
    if dtype := options.get("dtype"):
        options["dtype"] = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if config is None:
        return CheckConfig.from_options(options)  # made (and validated) once
    return config.replace(**options) if options else config


def iter_checks(target, config: CheckConfig | None = None, *, groups: Sequence[str] = GROUPS,
                batch=None, build=None, layout: str | None = None, data=None,
                progress: Callable[[int, int], None] | None = None,
                **options) -> Iterator[Check]:
    """The named checks for a protocol target, chosen by what it offers.

    Parameters
    ----------
    target : protocol target (see :func:`gradcheck.targets.protocol.as_target`), or a target of
        function-pair layers (:func:`gradcheck.adapters.function_layers`)
    config : CheckConfig, optional
        The run's options; keyword ``options`` (``mode="sample"``, ``seed=1``...) override it.
    groups : subset of :data:`GROUPS`
    batch : (X, y), optional
        Data in the target's layout for the main gradient check and the training probes
        (default: a synthetic batch).
    build : callable dtype -> target, optional
        Makes the same network in float32 and float64, for ``check_precision_float32``.
    layout : {"rows", "columns"}, optional
        Where the examples are in X (default: declared by the target, else detected).
    data : DataSet or (X, y), optional
        The user's examples, as rows of X (:class:`gradcheck.targets.data.DataSet`); every
        batch of the run is drawn from them by the seed, in the target's layout. Default: the
        target's ``example_batch()`` when it has one (its X in the target's layout), else
        synthetic batches.
    progress : callable (done, total), optional
        Called as the entries of a gradient check are done (e.g. to drive a progress bar).
    """
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise InvalidArgumentError("groups", f"got {sorted(unknown)}, expected a subset of {GROUPS}",
                                   "Pass groups=('gradients',) or groups=('probes',).")
    ctx = Context(target, _config(config, dict(options)), batch, build, layout,
                  progress=progress)
    kind = target_kind(target)
    if kind == "network":
        _ = ctx.described  # an unusable target fails here, before any check is listed
        if batch is None:
            ctx.dataset = DataSet.for_target(data, target, layout=ctx.layout, task=ctx.task)
    elif batch is not None or data is not None:
        raise InvalidArgumentError("data", "function-pair layers are checked on their own example "
                                   "arguments, not on a batch of data.",
                                   "Give a layer its arguments: gradcheck.adapters.function_layer("
                                   "forward, backward, x, w, b).")
    for family in REGISTRY:
        if family.group in groups and family.needs == kind:
            for check in family.make(ctx):
                yield check if isinstance(target, OutOfProcess) else replace(check, run=_in_memory(check.run, target))


def _in_memory(run: Callable[[], Any], target) -> Callable[[], Any]:
    """``run`` with the target's file-backed arrays swapped for in-memory copies while it runs:
    probes write into parameters too, and a user's file is never written."""
    def guarded():
        with InMemory(None, target):
            return run()

    return guarded


@under_one_blas_thread
def run_suite(target, config: CheckConfig | None = None, *, groups: Sequence[str] = GROUPS,
              label: str = "target", batch=None, build=None, layout: str | None = None, data=None,
              select: Callable[[Check], bool] | None = None,
              on_outcome: Callable[[CheckOutcome], None] | None = None,
              on_start: Callable[[Check], None] | None = None,
              on_plan: Callable[[Sequence[Check]], None] | None = None,
              progress: Callable[[int, int], None] | None = None,
              stop_on_error: bool = False, **options) -> SuiteResult:
    """Run the checks of :func:`iter_checks` (those ``select`` keeps) into one SuiteResult.

    ``on_plan`` is called once with the checks about to run (a progress bar's total);
    ``on_start`` before each check and ``on_outcome`` after it (e.g. to print as the run goes);
    ``progress(done, total)`` as a gradient check's entries are done. With
    ``stop_on_error`` a check that cannot run raises its GradcheckError instead of becoming
    an outcome of status "error".
    """
    used = _config(config, dict(options))  # validated once, here
    checks = [check for check in iter_checks(target, used, groups=groups, batch=batch, build=build,
                                             layout=layout, data=data, progress=progress)
              if select is None or select(check)]
    if on_plan is not None:
        on_plan(checks)
    suite = SuiteResult(target=label, config=used.to_dict())
    for check in checks:
        if on_start is not None:
            on_start(check)
        if stop_on_error:
            outcome = CheckOutcome.of(check.name, check.group, check.description, check.run(),
                                      subject=check.subject)
        else:
            outcome = check.outcome()
        suite.outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return suite
