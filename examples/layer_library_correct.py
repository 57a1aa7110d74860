"""Library-style layers (parameter dicts, lazy, accumulating), correct.

    gradcheck check examples/layer_library_correct.py:target
"""

from _layer_library_style import build

import gradcheck


def target(dtype="float64"):  # a factory with dtype: --dtype float32 builds the network in float32
    layers, loss = build()
    return gradcheck.adapters.layer_objects(layers, loss, n_inputs=20, dtype=dtype)


if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
