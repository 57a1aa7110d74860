"""Per-example backprop with a cross-entropy cost object on the network, correct.

    gradcheck check examples/per_sample_cost_correct.py:target
"""

from _nielsen_cost_style import Network

import gradcheck

target = gradcheck.adapters.per_sample(Network([20, 12, 10]))

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
