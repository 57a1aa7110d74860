"""Layer objects, book style, correct.   gradcheck check examples/layer_objects_correct.py:target"""

from _nnfs_style import build

import gradcheck

layers, loss = build()
target = gradcheck.adapters.layer_objects(layers, loss)

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
