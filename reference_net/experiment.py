"""The first article's experiment, reproduced on the 5,000 MNIST images shipped with reference_net.

784-10-10, ReLU then softmax, pixels / 255, full-batch gradient descent at alpha 0.1 for 750
iterations, 1,000 images held out (4,000 train). Then the same network trained with
mini-batches (SGD and Adam) until it reaches the full-batch run's held-out accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

from reference_net.data import load_mnist, train_test_split
from reference_net.network import build_mlp
from reference_net.optimizers import SGD, Adam
from reference_net.training import History, accuracy, train

#: The article's learning curve: iteration -> training accuracy (%), on 41,000 images.
ARTICLE_CURVE = {0: 9.2, 50: 49.2, 100: 66.7, 200: 78.1, 300: 82.3, 500: 85.9, 740: 87.7}
ARTICLE_TEST_ACCURACY = 85.8


@dataclass
class MiniBatchRun:
    """A mini-batch run that trains until the full-batch held-out accuracy is reached."""

    optimizer: str
    batch_size: int
    lr: float
    history: History
    reached: bool

    @property
    def epochs(self) -> int:
        return len(self.history.epoch)

    @property
    def seconds(self) -> float:
        return self.history.seconds[-1]

    @property
    def val_accuracy(self) -> float:
        return self.history.val_accuracy[-1]


@dataclass
class ExperimentResult:
    seed: int
    init: str
    n_train: int
    n_test: int
    full_batch: History
    test_accuracy: float
    mini_batch: list[MiniBatchRun]


N_TEST = 1000
ITERATIONS = 750
INIT = "uniform_half"


def run_experiment(
    *,
    seed: int = 0,
    iterations: int = ITERATIONS,
    alpha: float = 0.1,
    init: str = INIT,
    batch_size: int = 64,
    max_epochs: int = 60,
    progress: bool = False,
) -> ExperimentResult:
    """Run the full-batch experiment, then the mini-batch SGD and Adam runs. Deterministic per seed.

    ``progress=True`` shows a bar per run on stderr when it is a terminal.
    """
    X, y = load_mnist()
    X_train, y_train, X_test, y_test = train_test_split(X, y, n_test=N_TEST, seed=seed)
    net = build_mlp((784, 10, 10), init=init, seed=seed)
    full = train(net, X_train, y_train, optimizer=SGD(alpha), epochs=iterations,
                 X_val=X_test, y_val=y_test, seed=seed, progress=progress and "full batch")
    test_acc = accuracy(net, X_test, y_test)
    runs = []
    for name, opt, lr in (("SGD", SGD, 0.1), ("Adam", Adam, 1e-3)):
        net = build_mlp((784, 10, 10), init=init, seed=seed)
        history = train(net, X_train, y_train, optimizer=opt(lr), epochs=max_epochs,
                        batch_size=batch_size, X_val=X_test, y_val=y_test, seed=seed,
                        target_val_accuracy=test_acc, progress=progress and f"batch {batch_size}, {name}")
        runs.append(MiniBatchRun(name, batch_size, lr, history, history.stopped_early))
    return ExperimentResult(seed, init, len(y_train), len(y_test), full, test_acc, runs)


def format_header(*, iterations: int, n_train: int, n_test: int, init: str, seed: int) -> list[str]:
    """What is trained on what: the first lines of :func:`format_result`, known before training."""
    return [
        f"784-10-10 ReLU/softmax, full-batch gradient descent, alpha 0.1, {iterations} iterations",
        f"MNIST (the 5,000 shipped images): {n_train} train / {n_test} held out "
        f"(article: 41,000 / 1,000); init {init}, seed {seed}",
        "",
    ]


def format_result(result: ExperimentResult, *, header: bool = True) -> str:
    """The learning-curve table beside the article's numbers, then the mini-batch comparison."""
    full = result.full_batch
    lines = format_header(iterations=len(full.step), n_train=result.n_train, n_test=result.n_test,
                          init=result.init, seed=result.seed) if header else []
    lines += [
        f"{'iteration':>9}  {'train acc (ours)':>16}  {'train acc (article)':>19}",
    ]
    for it, article in ARTICLE_CURVE.items():
        if it < len(full.train_accuracy):
            lines.append(f"{it:>9}  {100 * full.train_accuracy[it]:>15.1f}%  {article:>18.1f}%")
    lines += [
        f"{'test':>9}  {100 * result.test_accuracy:>15.1f}%  {ARTICLE_TEST_ACCURACY:>18.1f}%",
        "",
        f"Reaching the full-batch held-out accuracy ({100 * result.test_accuracy:.1f}%):",
        f"{'run':>28}  {'epochs':>6}  {'steps':>6}  {'wall time':>9}  {'held-out':>8}",
        f"{'full batch, SGD alpha 0.1':>28}  {len(full.step):>6}  {len(full.step):>6}  "
        f"{full.seconds[-1]:>8.2f}s  {100 * result.test_accuracy:>7.1f}%",
    ]
    for run in result.mini_batch:
        label = f"batch {run.batch_size}, {run.optimizer} lr {run.lr:g}"
        note = "" if run.reached else "  (not reached)"
        lines.append(
            f"{label:>28}  {run.epochs:>6}  {run.history.step[-1] + 1:>6}  "
            f"{run.seconds:>8.2f}s  {100 * run.val_accuracy:>7.1f}%{note}"
        )
    return "\n".join(lines)


#: Environment variables through which a user sets the BLAS thread count.
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _blas_limit():
    """One BLAS thread unless the user set a count: on a shared machine a second spinning
    thread makes this network's small products many times slower, and the wall times erratic."""
    import contextlib
    import os

    if any(os.environ.get(name, "").strip() for name in BLAS_VARIABLES):
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def main() -> int:
    # the header first, so a terminal shows what is running while the bars count the epochs
    print("\n".join(format_header(iterations=ITERATIONS, n_train=5000 - N_TEST, n_test=N_TEST, init=INIT, seed=0)),
          flush=True)
    with _blas_limit():
        print(format_result(run_experiment(progress=True), header=False), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
