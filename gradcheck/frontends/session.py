"""What every front end does before the engine runs: load the target once, make the config.

The command line and the pytest plugin read their options from :data:`gradcheck.options.OPTIONS`
and call :func:`config_for` and :func:`sandboxed`: the target is loaded in a child process of
its own (:mod:`gradcheck.frontends.isolation`) and checked here through a proxy
(:mod:`gradcheck.frontends.remote`), so its code never runs in the process that decides the
verdict. :func:`load_target` loads one in this process (the Python API's own process, where the
user's code runs anyway); the Python API passes a target object and a
:class:`~gradcheck.config.CheckConfig` to the engine directly.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gradcheck.adapters.function_pairs import discover, layers_in, offered_layers
from gradcheck.config import CheckConfig, config_from
from gradcheck.errors import GradcheckError, InvalidArgumentError, TargetLoadError
from gradcheck.numeric.model import precision_of
from gradcheck.options import OPTIONS, flag
from gradcheck.targets.batches import check_batch_memory, describe, input_width
from gradcheck.targets.builders import dtype_builder
from gradcheck.targets.data import DataSet
from gradcheck.targets.data import load_data as read_data
from gradcheck.targets.loading import DEFAULT_ATTR, attribute, is_source_file, load_namespace, no_exit
from gradcheck.targets.protocol import as_target, target_params
from gradcheck.targets.tasks import TASK_NAMES

#: Batch of the default target (the reference network on MNIST) when no batch size is given.
DEFAULT_TARGET_BATCH = 64


@dataclass
class LoadedTarget:
    """A target ready for the engine.

    Attributes
    ----------
    target : the protocol target.
    label : what was checked, e.g. ``"net.py:target (examples as rows)"``.
    name : a file-name-safe stem for reports, e.g. ``"net"``.
    layout : "rows" or "columns".
    data : (X, y) the front end supplies (real MNIST for the default target), or None.
    build : dtype -> target of the same network, or None.
    dataset : the user's examples (``--data``), or None.
    sources : the target's own source files, which no report may overwrite.
    """

    target: Any
    label: str
    name: str
    layout: str
    data: tuple[np.ndarray, np.ndarray] | None = None
    build: Callable[[Any], Any] | None = None
    dataset: DataSet | None = None
    sources: tuple[str, ...] = ()

    def engine_arguments(self) -> dict[str, Any]:
        """Keyword arguments of :func:`gradcheck.engine.run_suite` for this target."""
        return {"label": self.label, "batch": self.data, "build": self.build,
                "layout": self.layout, "data": self.dataset}


def config_for(values: Mapping[str, Any], flag: Callable[[str], str]) -> CheckConfig:
    """A config from front-end values; a bad value's error names the flag (``--batch-size``)."""
    try:
        return config_from(values)
    except InvalidArgumentError as exc:
        names = {option.name for option in OPTIONS}
        where = flag(exc.argument) if exc.argument in names else exc.argument
        raise InvalidArgumentError(where, exc.problem, exc.fix) from None


def _flag(name: str) -> str:
    return flag(name)


def load_data(config: CheckConfig, flag: Callable[[str], str] = _flag) -> DataSet | None:
    """The examples of ``config.data`` (None without it); a bad file's error names the flag."""
    return None if config.data is None else read_data(config.data, argument=flag("data"))


def dtype_note(build_dtype: str | None, built: bool, target, flag: Callable[[str], str] = _flag) -> str:
    """What ``--dtype`` did to the network, for the label: built in it by a factory taking
    ``dtype=``, or not (and what was checked instead); "" when no dtype was asked for."""
    if build_dtype is None:
        return ""
    if built:
        return f"built with dtype={build_dtype}"
    have = precision_of(list(target_params(target).values())).name
    if have == build_dtype:
        return ""
    return (f"{flag('dtype')} {build_dtype} could not build a {build_dtype} network: the target is "
            f"not a factory taking dtype=, so its parameters stay {have} and only the data are "
            f"{build_dtype}")


def load_target(spec: str | None, config: CheckConfig, *, layout: str | None = None,
                flag: Callable[[str], str] = _flag, build_dtype: str | None = None) -> LoadedTarget:
    """Load ``spec`` (``module:attr``, ``path.py:attr`` or ``notebook.ipynb:attr``) once, or the
    default target for None.

    The user's file is executed exactly once: the protocol target and the dtype builder are
    both made from the one loaded object. ``config.data`` is read here too, and checked
    against the network (``flag`` names the option in errors: ``--data``). A spec naming
    function-pair layers (``layers.py:conv``, ``layers.py:*``, a ``LAYERS`` list) loads them as
    a target of their own kind (:func:`load_spec`). ``build_dtype`` (``--dtype`` as given, None
    when it was not): a factory taking ``dtype=`` is called with it; the label says so, or says
    that the target could not be built in it.
    """
    dataset = load_data(config, flag)
    if spec is None and dataset is not None:  # the reference network on the user's examples
        from gradcheck.targets.default_target import DefaultTarget

        return _loaded(DefaultTarget.build(config.np_dtype, seed=config.seed),
                       "the reference network 784-10-10", "reference_net", config, layout, dataset,
                       lambda dt: DefaultTarget.build(dt, seed=config.seed))
    if spec is None:
        from gradcheck.targets.default_target import LABEL, DefaultTarget, default_target

        size = config.batch_size or DEFAULT_TARGET_BATCH
        try:
            default = default_target(batch_size=size, seed=config.seed, dtype=config.np_dtype)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError("--batch-size", exc.problem, exc.fix) from None
        return LoadedTarget(default.target, LABEL, "reference_net", "rows", (default.X, default.y),
                            lambda dt: DefaultTarget.build(dt, seed=config.seed))
    sources = target_sources(spec)  # a file's path before the target can chdir at import
    obj = load_spec(spec)
    sources = sources or target_sources(spec)
    name = _stem(spec)
    if offered_layers(obj) is not None:
        return _loaded_layers(obj, spec, name, config, dataset, sources, flag)
    builder = dtype_builder(obj)
    built = builder is not None and build_dtype is not None
    target = builder(np.dtype(build_dtype)) if built else as_target(obj, label=spec)
    if config.batch_size is not None:  # refused now, with the flag's name, not in every check
        check_batch_memory(config.batch_size, input_width(target), argument="--batch-size")
    return _loaded(target, spec, name, config, layout, dataset, builder, sources,
                   dtype_note(build_dtype, built, target, flag))


@contextlib.contextmanager
def sandboxed(spec: str | None, config: CheckConfig, *, layout: str | None = None,
              flag: Callable[[str], str] = _flag, limits=None, adopt: bool = True,
              build_dtype: str | None = None) -> Iterator[LoadedTarget]:
    """Load ``spec`` (or the reference network for None) in a child process of its own and
    yield it as a :class:`LoadedTarget` whose target is a proxy; the child, and everything it
    started, is killed on the way out.

    Load errors are raised as :func:`load_target` raises them; a child that ends, times out or
    runs out of memory raises :class:`~gradcheck.frontends.isolation.TargetGone` (from the load,
    or later from any call of the proxy). ``limits`` are the child's
    (:class:`~gradcheck.frontends.isolation.Limits`; default: none); ``adopt`` makes this process
    the subreaper of what the target detaches (not for a pytest process).
    """
    from gradcheck.frontends.isolation import Child, Limits
    from gradcheck.frontends.remote import Connection

    folders = [os.getcwd()] + [os.path.dirname(os.path.abspath(p)) for p in target_sources(spec or "")]
    child = Child(limits or Limits(seconds=None, memory_mb=None), adopt=adopt, writable_copies=folders)
    try:
        child.start()
        loaded = load_sandboxed(Connection(child), spec, config, layout=layout, flag=flag,
                                build_dtype=build_dtype)
    except BaseException:
        child.stop()
        raise
    try:
        yield loaded
    finally:
        child.stop()


def load_sandboxed(connection, spec: str | None, config: CheckConfig, *, layout: str | None = None,
                   flag: Callable[[str], str] = _flag, build_dtype: str | None = None) -> LoadedTarget:
    """:func:`load_target`, with the target loaded in the child behind ``connection``."""
    from gradcheck.frontends import remote

    dataset = load_data(config, flag)
    arguments = {"batch_size": config.batch_size, "seed": config.seed, "dtype": config.dtype,
                 "data": dataset is not None}
    if spec is None:
        from gradcheck.targets.default_target import LABEL

        arguments["batch_size"] = config.batch_size or DEFAULT_TARGET_BATCH
        try:
            target, extra = remote.load(connection, spec=None, label=LABEL, **arguments)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError("--batch-size", exc.problem, exc.fix) from None
        if dataset is not None:
            return _loaded(target, "the reference network 784-10-10", "reference_net", config, layout,
                           dataset, target.build)
        return LoadedTarget(target, LABEL, "reference_net", "rows", (extra["X"], extra["y"]), target.build)
    sources = target_sources(spec)
    target, extra = remote.load(connection, spec=spec, label=spec, build_dtype=build_dtype, **arguments)
    if not sources and extra.get("source"):
        sources = (os.path.abspath(extra["source"]),)
    if offered_layers(target) is not None:  # function-pair layers, their functions run in the child
        return _loaded_layers(target, spec, _stem(spec), config, dataset, sources, flag)
    target = as_target(target, label=spec)  # what the child says it has, checked here
    if config.batch_size is not None:
        check_batch_memory(config.batch_size, input_width(target), argument="--batch-size")
    return _loaded(target, spec, _stem(spec), config, layout, dataset,
                   target.build if target.builds else None, sources,
                   dtype_note(build_dtype, extra["built"], target, flag))


def _stem(spec: str) -> str:
    """A file-name-safe stem of a target's name, e.g. ``net`` for ``path/net.py:build``."""
    stem = Path(spec.rsplit(":", 1)[0]).stem.rsplit(".", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem)[:60].strip(".") or "target"


def load_spec(spec: str):
    """The object ``spec`` names, or the function-pair layers it names.

    ``FILE:*`` is every layer of the file; ``FILE:conv`` the layer ``conv`` (its forward may be
    ``conv_forward_naive``), also when ``conv`` is not an attribute; ``FILE:LAYERS`` a list of
    layer names; a file named alone, with no ``target`` in it, its ``LAYERS`` list or else every
    layer it defines.
    """
    module, where, attr = load_namespace(spec)
    if attr == "*":
        return layers_in(module, attr)
    try:
        obj = attribute(module, where, attr)
    except TargetLoadError as missing:
        layers = layers_in(module, attr, default=attr == DEFAULT_ATTR)
        if layers is None:
            names = [layer.name for layer in discover(module)]
            if not names:
                raise
            close = difflib.get_close_matches(attr, names, n=1)
            raise TargetLoadError(
                f"{where} has no attribute or layer {attr!r}"
                + (f"; did you mean {close[0]!r}?" if close else ".")
                + f" Its function-pair layers: {', '.join(names)} ({where}:* checks every one)."
            ) from missing
        return layers
    if isinstance(obj, (list, tuple)) or (callable(obj) and not isinstance(obj, type)):
        layers = layers_in(module, attr)
        if layers is not None:
            return layers
    return obj


def _loaded_layers(layers, spec, name, config, dataset, sources, flag) -> LoadedTarget:
    """Function-pair layers, checked on their own example arguments: no batch to take."""
    if dataset is not None:
        raise InvalidArgumentError(flag("data"), "function-pair layers are checked on example "
                                   "arguments, not on a data file.",
                                   "Leave it out, or give a layer its own arguments with "
                                   "gradcheck.adapters.function_layer(forward, backward, x, w, b).")
    if config.batch_size is not None:
        raise InvalidArgumentError(flag("batch_size"), "function-pair layers are checked on "
                                   "example arguments of their own sizes.",
                                   "Leave it out, or give a layer its own arguments with "
                                   "gradcheck.adapters.function_layer(forward, backward, x, w, b).")
    if spec.endswith(f":{DEFAULT_ATTR}") and not hasattr(layers, DEFAULT_ATTR):
        spec = spec[: -len(DEFAULT_ATTR) - 1]  # the file was named alone: its layers, not its target
    return LoadedTarget(layers, f"{spec} ({layers.describe()})", name, "rows", sources=sources)


def _loaded(target, spec, name, config, layout, dataset, build, sources=(), dtype_said="") -> LoadedTarget:
    # the first calls of loss/gradients happen here: a sys.exit() in them is a load error too
    with no_exit("in its first call (detecting the layout of X)"):
        layout, task = describe(target, seed=config.seed, layout=layout, dtype=config.np_dtype)
    if dataset is not None:  # a file that does not fit the network is the option's error, now
        dataset = dataset.fitted(target, layout, task)
    what = f"examples as {layout}"
    if task.name != "multiclass":
        what += f", {TASK_NAMES[task.name]}"
    if dataset is not None:
        what += f", {dataset.n_examples} examples from {config.data}"
    if dtype_said:
        what += f", {dtype_said}"
    return LoadedTarget(target, f"{spec} ({what})", name, layout, build=build, dataset=dataset,
                        sources=sources)


def target_sources(spec: str) -> tuple[str, ...]:
    """The source file of ``spec`` (``path.py:attr``, ``path.ipynb:attr`` or an imported
    ``module:attr``), if known."""
    where = spec.rpartition(":")[0]
    if is_source_file(where):
        return (os.path.abspath(where),)
    module = sys.modules.get(where)
    source = getattr(module, "__file__", None)
    return (source,) if source else ()


__all__ = ["GradcheckError", "LoadedTarget", "config_for", "load_target", "sandboxed"]
