"""Regression network with dW2 missing the factor 2 of the square.

    gradcheck check examples/regression_buggy.py:target
"""

from _tasks_style import RegressionNet

target = RegressionNet(bug="w2_factor")

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
