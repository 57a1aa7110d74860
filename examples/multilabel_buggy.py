"""MultiLabel network with 1 - A instead of 1 - A**2 for the tanh derivative.

    gradcheck check examples/multilabel_buggy.py:target
"""

from _tasks_style import MultiLabelNet

target = MultiLabelNet(bug="tanh_derivative")

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
