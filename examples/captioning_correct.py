"""A captioning model with integer captions (N, T), correct.   gradcheck check examples/captioning_correct.py"""

from _captioning_style import CaptioningRNN

target = CaptioningRNN()

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
