"""Binary network with the output bias gradient summed over the batch, not averaged.

    gradcheck check examples/binary_buggy.py:target
"""

from _tasks_style import BinaryNet

target = BinaryNet(bug="db2_sum")

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
