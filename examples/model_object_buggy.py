"""A model object whose dense layers add l2 * W, not 2 * l2 * W, to the weight gradient.

    gradcheck check examples/model_object_buggy.py:target
"""

from _book_model_style import build

import gradcheck

target = gradcheck.adapters.model(build(half_l2_gradient=True))

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
