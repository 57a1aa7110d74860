"""cs231n-style model whose affine_backward computes dw = dout.T @ x (transposed).

    gradcheck check examples/cache_pairs_buggy.py:target
"""

from _cs231n_style import TwoLayerNet

import gradcheck

target = gradcheck.adapters.cache_model(TwoLayerNet(transposed_dw=True))

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
