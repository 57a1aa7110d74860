"""Layer objects, book style, with the softmax/cross-entropy backward missing its 1/m.

    gradcheck check examples/layer_objects_buggy.py:target
"""

from _nnfs_style import build

import gradcheck

layers, loss = build(missing_one_over_m=True)
target = gradcheck.adapters.layer_objects(layers, loss)

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
