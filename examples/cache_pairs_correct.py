"""cs231n-style model, correct.   gradcheck check examples/cache_pairs_correct.py:target"""

from _cs231n_style import TwoLayerNet

import gradcheck

target = gradcheck.adapters.cache_model(TwoLayerNet())

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
