"""Binary network, correct.   gradcheck check examples/binary_correct.py:target"""

from _tasks_style import BinaryNet

target = BinaryNet()

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
