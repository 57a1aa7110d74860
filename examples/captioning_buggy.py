"""A captioning model whose word embedding's gradient is assigned, not accumulated: a word used
twice in a batch keeps only one of its gradients.

    gradcheck check examples/captioning_buggy.py
"""

from _captioning_style import CaptioningRNN

target = CaptioningRNN(bug="embedding_assigned")

if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py:target`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", f"{__file__}:target"]))
