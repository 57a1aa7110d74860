"""Reference harness: one function-pair layer checked with ``gradcheck.check_gradients``.

The layer's outputs are reduced to the scalar ``sum_k sum(out_k * dout_k)`` with fixed random
upstream gradients ``dout_k`` (drawn from a seed); its gradient with respect to each float
argument is exactly what ``backward(*douts, cache)`` must return. Loss layers (``(loss, dx)`` in
one call) are their own scalar.

The float arguments are copied into writeable arrays that the checker perturbs in place; the
loss calls the forward on those live arrays every time. Everything else (integer indices, masks,
setting dicts such as ``bn_param``, whose running statistics the forward updates) is deep-copied
for every call, so no state drifts from one evaluation of the loss to the next.
"""

from __future__ import annotations

import copy

import numpy as np

import gradcheck
from tests.corpus.layers.catalogue import LAYERS, Layer, LayerBug


def _live_arrays(layer: Layer, args: dict) -> dict[str, np.ndarray]:
    live = {}
    for name in layer.differentiable:
        if name in args:
            value = args[name]
        else:  # a weight inside a parameters dict (the dict style)
            value = next(v[name] for v in args.values() if isinstance(v, dict) and name in v)
        live[name] = np.array(value, dtype=value.dtype, copy=True)
    return live


def _call_args(args: dict, live: dict) -> list:
    """The forward's positional arguments: live arrays where differentiable, fresh copies elsewhere."""
    out = []
    for name, value in args.items():
        if name in live:
            out.append(live[name])
        elif isinstance(value, dict):
            out.append({k: live[k] if k in live else copy.deepcopy(v) for k, v in value.items()})
        else:
            out.append(copy.deepcopy(value))
    return out


def layer_problem(layer: Layer, forward, backward, args: dict, seed: int = 0):
    """(loss, params, grads) for check_gradients: the surrogate loss, the live float arguments
    and the gradients one backward call returns on the unperturbed arguments."""
    live = _live_arrays(layer, args)

    if layer.style == "loss":
        def loss() -> float:
            return float(forward(*_call_args(args, live))[0])

        _, dx = forward(*_call_args(args, live))
        return loss, live, {layer.differentiable[0]: dx}

    returned = forward(*_call_args(args, live))
    outputs, cache = returned[:-1], returned[-1]
    outputs = outputs[:layer.upstream] if layer.upstream is not None else outputs
    # a stream of its own: drawn from ``seed`` alone, dout would repeat the example arguments'
    # first normals (batch norm's dx then vanishes, dout being a linear function of x)
    rng = np.random.default_rng([seed, 1])
    douts = [rng.standard_normal(out.shape).astype(out.dtype) for out in outputs]
    n_up = len(douts)

    def loss() -> float:
        outs = forward(*_call_args(args, live))[:n_up]
        return float(sum(np.sum(np.asarray(o, dtype=np.float64) * d) for o, d in zip(outs, douts)))

    result = backward(*[d.copy() for d in douts], cache)
    if layer.style == "dict":
        grads = {name: result["d" + name] for name in layer.differentiable}
    else:
        result = result if isinstance(result, tuple) else (result,)
        if len(result) != len(layer.differentiable):
            raise ValueError(f"{layer.kind}: backward returned {len(result)} gradients, "
                             f"expected {len(layer.differentiable)} ({layer.differentiable})")
        grads = dict(zip(layer.differentiable, result))
    return loss, live, grads


def check(layer: Layer, forward=None, backward=None, *, seed: int = 0, dtype=np.float64, **options):
    """check_gradients on one layer (its own forward/backward unless others are given)."""
    forward = layer.forward if forward is None else forward
    backward = layer.backward if backward is None else backward
    args = layer.example_args(seed, dtype)
    loss, params, grads = layer_problem(layer, forward, backward, args, seed)
    options.setdefault("mode", "full")
    return gradcheck.check_gradients(loss, params, grads, **options)


def check_bug(bug: LayerBug, *, seed: int = 0, dtype=np.float64, **options):
    return check(LAYERS[bug.kind], bug.forward, bug.backward, seed=seed, dtype=dtype, **options)


def error_kinds(result) -> dict[str, tuple[str, ...]]:
    """The kinds of the failing findings, per subject (sorted, without repeats)."""
    kinds: dict[str, set] = {}
    for finding in result.findings:
        if finding.is_failure:
            kinds.setdefault(finding.subject, set()).add(finding.kind)
    return {subject: tuple(sorted(k)) for subject, k in sorted(kinds.items())}
