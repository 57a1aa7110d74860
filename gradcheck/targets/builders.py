"""Rebuild a target in another dtype, when what the user gave is a factory that allows it."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from gradcheck.targets.protocol import as_target


def dtype_builder(obj) -> Callable | None:
    """``dtype -> target`` when ``obj`` is a factory with a ``dtype`` parameter, else None.

    ``reference_net.network:build_mlp`` is one: the float32-versus-float64 probe builds the
    same network (same seed, same values rounded) in both dtypes.
    """
    if not callable(obj) or isinstance(obj, type) or hasattr(obj, "loss"):
        return None
    try:
        accepts = "dtype" in inspect.signature(obj).parameters
    except (TypeError, ValueError):  # builtins and C functions without a signature
        return None
    if not accepts:
        return None
    return lambda dtype: as_target(obj(dtype=dtype), label=getattr(obj, "__name__", "factory"))
