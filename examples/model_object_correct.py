"""A model object with forward(X, training), L2 on its dense layers and a backward-only
softmax/cross-entropy, correct.   gradcheck check examples/model_object_correct.py:target
"""

from _book_model_style import build

import gradcheck

target = gradcheck.adapters.model(build())

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
