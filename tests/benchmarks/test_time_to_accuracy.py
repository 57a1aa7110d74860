"""Wall time and epochs for the first article's network to reach 85 % held-out accuracy.

784-10-10, ReLU/softmax, uniform(-0.5, 0.5) weights (the article's), seed 0, float64, 4,000
training and 1,000 held-out MNIST images. Full-batch gradient descent at alpha 0.1 (as in
``reference_net.experiment``), mini-batch SGD at lr 0.1 and mini-batch Adam at lr 0.001. Epochs
and steps (one loss evaluation each) are exact for the seed; wall time includes one held-out
evaluation per epoch.
"""

import pytest

from reference_net.network import build_mlp
from reference_net.optimizers import SGD, Adam
from reference_net.training import train

TARGET = 0.85
RUNS = [("gd", None, 0.1, 3000)] + [
    (name, batch, lr, 200) for name, lr in (("sgd", 0.1), ("adam", 1e-3)) for batch in (32, 64, 128, 256)
]
OPTIMIZERS = {"gd": SGD, "sgd": SGD, "adam": Adam}


@pytest.mark.parametrize(("optimizer", "batch_size", "lr", "max_epochs"), RUNS,
                         ids=[f"{r[0]}-{'full' if r[1] is None else r[1]}" for r in RUNS])
def test_time_to_85(benchmark, mnist_split, optimizer, batch_size, lr, max_epochs):
    X_train, y_train, X_val, y_val = mnist_split
    histories = []

    def run():
        net = build_mlp((784, 10, 10), init="uniform_half", seed=0)
        histories.append(train(net, X_train, y_train, optimizer=OPTIMIZERS[optimizer](lr),
                               epochs=max_epochs, batch_size=batch_size, X_val=X_val, y_val=y_val,
                               seed=0, target_val_accuracy=TARGET))

    benchmark.pedantic(run, rounds=3 if batch_size is None else 5, iterations=1)
    history = histories[-1]
    assert history.stopped_early, f"{TARGET:.0%} not reached in {max_epochs} epochs"
    benchmark.extra_info.update({
        "optimizer": optimizer,
        "batch_size": "full" if batch_size is None else batch_size,
        "lr": lr,
        "target_val_accuracy": TARGET,
        "epochs": len(history.epoch),
        "steps": history.step[-1] + 1,
        "loss_evals": history.step[-1] + 1,
        "val_accuracy": history.val_accuracy[-1],
        "same_for_every_round": len({(len(h.epoch), h.val_accuracy[-1]) for h in histories}) == 1,
    })
