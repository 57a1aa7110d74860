"""A 784-30-10 per-example network with a cross-entropy cost (23,860 parameters), correct.

Its feedforward takes a whole batch of columns, so the loss of a batch is one call:
    gradcheck check examples/per_sample_784.py:target
"""

from _nielsen_cost_style import Network

import gradcheck

target = gradcheck.adapters.per_sample(Network([784, 30, 10]))

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
