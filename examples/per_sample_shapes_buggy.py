"""Per-example backprop returning nabla_w transposed and nabla_b as one number per layer.

    gradcheck check examples/per_sample_shapes_buggy.py:target
"""

from _nielsen_cost_style import Network

import gradcheck

target = gradcheck.adapters.per_sample(Network([20, 12, 10], transposed_nabla_w=True, scalar_nabla_b=True))

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
