"""The function probes a target calls for, chosen by the functions it exposes.

A target (or any object, even a module) with a ``softmax`` gets :func:`probe_softmax`, one with
a ``cross_entropy`` gets :func:`probe_cross_entropy`, and so on; a loss's gradient is probed too
when the target also has ``<loss name>_gradient``. See the table in docs/protocol.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradcheck.probes.activations import probe_log_softmax, probe_sigmoid
from gradcheck.probes.base import ProbeResult
from gradcheck.probes.losses import probe_binary_cross_entropy, probe_cross_entropy
from gradcheck.probes.softmax import probe_softmax

#: (attribute, what it takes, probe, options); ``axis`` is filled in from the target's layout.
FUNCTION_PROBES: tuple[tuple[str, str, Callable[..., ProbeResult], dict[str, Any]], ...] = (
    ("softmax", "logits", probe_softmax, {}),
    ("log_softmax", "logits", probe_log_softmax, {}),
    ("sigmoid", "logits", probe_sigmoid, {}),
    ("cross_entropy", "probabilities", probe_cross_entropy, {}),
    ("cross_entropy_from_logits", "logits", probe_cross_entropy, {"from_logits": True}),
    ("softmax_cross_entropy", "logits", probe_cross_entropy, {"from_logits": True}),
    ("binary_cross_entropy", "probabilities", probe_binary_cross_entropy, {}),
    ("binary_cross_entropy_from_logits", "logits", probe_binary_cross_entropy, {"from_logits": True}),
)

_TAKES_AXIS = (probe_softmax, probe_log_softmax, probe_cross_entropy)
_LOSSES = (probe_cross_entropy, probe_binary_cross_entropy)


def function_probe_calls(target: Any, *, dtype: Any = np.float64, seed: int = 0,
                         layout: str | None = None) -> list[tuple[str, str, Callable[[], ProbeResult]]]:
    """The function probes ``target``'s attributes call for, not yet run, in table order.

    Returns a list of ``(attribute, what it takes, run)``; ``run()`` returns the ProbeResult.
    ``layout`` overrides ``target.layout`` ("columns" puts the class axis first).
    """
    columns = (layout or getattr(target, "layout", None)) == "columns"
    calls = []
    for attr, takes, probe, options in FUNCTION_PROBES:
        fn = getattr(target, attr, None)
        if not callable(fn):
            continue
        kwargs: dict[str, Any] = {"dtype": dtype, "seed": seed, "subject": attr, **options}
        if probe in _TAKES_AXIS:
            kwargs["axis"] = 0 if columns else -1
        if probe is probe_binary_cross_entropy:
            kwargs["shape"] = (1, 6) if columns else (6, 1)
        if probe in _LOSSES:
            gradient = getattr(target, f"{attr}_gradient", None)
            kwargs["gradient"] = gradient if callable(gradient) else None
        calls.append((attr, takes, lambda probe=probe, fn=fn, kwargs=kwargs: probe(fn, **kwargs)))
    return calls


def function_probes_for(target: Any, *, dtype: Any = np.float64, seed: int = 0) -> list[ProbeResult]:
    """Run every function probe that ``target``'s attributes call for, in table order.

    Parameters
    ----------
    target : any object; attributes named in :data:`FUNCTION_PROBES` that are callable are
        probed. ``target.layout == "columns"`` puts the class axis first (axis 0, and
        binary-loss inputs of shape (1, n)); otherwise classes are the last axis.
    dtype : float32 or float64, passed to every probe.
    seed : passed to every probe.

    Returns
    -------
    list of ProbeResult, empty when the target exposes none of the functions.

    Examples
    --------
    >>> from reference_net.network import build_mlp
    >>> [r.name for r in function_probes_for(build_mlp((4, 3, 2)))]
    ['softmax', 'sigmoid']
    """
    return [run() for _, _, run in function_probe_calls(target, dtype=dtype, seed=seed)]
