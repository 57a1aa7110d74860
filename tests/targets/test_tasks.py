"""Tasks other than multi-class softmax: declared or inferred, labels of their kind, no false alarms."""

import sys
from pathlib import Path

import numpy as np
import pytest

from gradcheck.engine import iter_checks, run_suite
from gradcheck.errors import ProtocolError
from gradcheck.probes.contracts import probe_shapes
from gradcheck.targets.batches import describe, synthetic_batch
from gradcheck.targets.protocol import as_target

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))
from _tasks_style import BinaryNet, MultiLabelNet, RegressionNet  # noqa: E402

NETS = {"binary": BinaryNet, "multilabel": MultiLabelNet, "regression": RegressionNet}

#: (task, layout, dtype, seed, batch_size): every task in both layouts and dtypes, four batch sizes
RUNS = [(task, layout, dtype, seed, size)
        for task in NETS
        for layout, dtype, seed, size in (("rows", "float64", 0, None), ("columns", "float32", 1, 5),
                                          ("rows", "float32", 2, 17), ("columns", "float64", 3, 64))]


@pytest.mark.parametrize("task, layout, dtype, seed, batch_size", RUNS)
def test_correct_networks_pass_every_check(task, layout, dtype, seed, batch_size):
    net = NETS[task](layout=layout, seed=seed, dtype=np.dtype(dtype))
    suite = run_suite(net, dtype=dtype, seed=seed, batch_size=batch_size)
    assert suite.passed, str(suite)
    assert suite["check_gradients_batch_missing_classes"].findings[0].kind == "skipped"


#: (task, bug, the parameters the main gradient check names)
BUGS = [("binary", "db2_sum", ["b2"]), ("multilabel", "tanh_derivative", ["W1", "b1"]),
        ("regression", "w2_factor", ["W2"])]


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("task, bug, wrong", BUGS)
def test_buggy_networks_are_flagged_on_the_right_parameter(task, bug, wrong, layout):
    suite = run_suite(NETS[task](bug=bug, layout=layout), groups=("gradients",), batch_size=12)
    assert suite["check_gradients_batch12"].result.failed == wrong
    assert suite.failed == (["check_gradients_batch12"] if bug == "db2_sum" else
                            ["check_gradients_batch1", "check_gradients_batch12"])


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("task, expected, flat", [("binary", "binary", False),
                                                  ("multilabel", "multilabel", False),
                                                  ("regression", "regression", False)])
def test_task_is_inferred_or_declared(task, expected, flat, layout):
    net = NETS[task](layout=layout)
    found_layout, found = describe(net)
    assert (found_layout, found.name, found.flat) == (layout, expected, flat)
    assert found.declared == (task == "regression")  # RegressionNet declares task = "regression"


class FlatLabelsBinary(BinaryNet):
    """A sigmoid network whose loss takes labels (n,) and refuses (n, 1)."""

    def loss(self, X, y):
        if np.ndim(y) != 1:
            raise ValueError(f"labels must be (n,), got {np.shape(y)}")
        return super().loss(X, y)


def test_binary_labels_n_when_the_loss_refuses_n_by_1():
    layout, task = describe(FlatLabelsBinary())
    assert (task.name, task.flat) == ("binary", True)
    assert run_suite(FlatLabelsBinary(), batch_size=9).passed


def test_multiclass_target_keeps_integer_labels():
    from reference_net.network import build_mlp

    layout, task = describe(build_mlp((6, 5, 4)))
    assert (task.name, task.n_outputs, task.flat) == ("multiclass", 4, True)
    X, y, _ = synthetic_batch(build_mlp((6, 5, 4)), 8)
    assert y.dtype == np.int64 and sorted(set(y)) == [0, 1, 2, 3]


LABELS = [  # (net, layout, expected shape for 7 examples, dtype kind, values)
    (BinaryNet, "rows", (7, 1), "f", {0.0, 1.0}),
    (BinaryNet, "columns", (1, 7), "f", {0.0, 1.0}),
    (MultiLabelNet, "rows", (7, 4), "f", {0.0, 1.0}),
    (MultiLabelNet, "columns", (4, 7), "f", {0.0, 1.0}),
    (RegressionNet, "rows", (7, 3), "f", None),
    (RegressionNet, "columns", (3, 7), "f", None),
]


@pytest.mark.parametrize("net, layout, shape, kind, values", LABELS)
def test_synthetic_labels_have_the_task_shape_kind_and_values(net, layout, shape, kind, values):
    X, y, found = synthetic_batch(net(layout=layout), 7, seed=3, dtype=np.float32)
    assert found == layout and y.shape == shape and y.dtype == np.float32
    if values is not None:
        assert set(np.unique(y)) == values
        both = y.min(axis=0 if layout == "rows" else 1) != y.max(axis=0 if layout == "rows" else 1)
        assert both.all()  # each output sees both 0 and 1
    else:
        assert len(np.unique(y)) == y.size  # real-valued targets


class WrongWidthBinary(BinaryNet):
    """forward returns two columns (p, 1 - p) for a one-output network."""

    def forward(self, X):
        p = super().forward(X)
        return np.hstack([p, 1 - p])


def test_shapes_probe_expects_the_tasks_output_shape():
    assert probe_shapes(BinaryNet()).passed  # (n, 1), not (n, 2)
    assert probe_shapes(BinaryNet(layout="columns")).passed  # (1, n)
    result = probe_shapes(WrongWidthBinary())
    assert not result.passed and "expected (1, 1)" in result.findings[-1].message


class Declares:
    def __init__(self, task, n_out):
        self.task = task
        self.params = {"W": np.ones((3, n_out)), "b": np.zeros(n_out)}

    def loss(self, X, y):
        return 0.0

    def gradients(self, X, y):
        return {}


@pytest.mark.parametrize("task, n_out, message", [
    ("classification", 2, "expected one of 'multiclass', 'binary'"),
    ("binary", 3, "declares task 'binary' but has 3 outputs"),
    ("multiclass", 1, "declares task 'multiclass' but has 1 output"),
])
def test_a_bad_task_declaration_says_what_to_write(task, n_out, message):
    with pytest.raises(ProtocolError, match=message):
        describe(as_target(Declares(task, n_out)))


def test_a_loss_no_label_form_fits_says_to_declare_the_task():
    class Picky(BinaryNet):
        def __init__(self):
            super().__init__()
            self.layout = None  # undeclared: found by calling the loss

        def loss(self, X, y):
            raise ValueError("labels must be strings")

    with pytest.raises(ProtocolError, match="declare `layout = 'rows'`.* and `task = 'multiclass'`"):
        describe(Picky())
    assert describe(Picky(), layout="rows")[1].name == "binary"  # the checks will say what failed


def test_missing_classes_is_listed_as_skipped_with_the_reason():
    names = [c.name for c in iter_checks(RegressionNet(), groups=("gradients",))]
    assert "check_gradients_batch_missing_classes" in names
    outcome = run_suite(RegressionNet(), groups=("gradients",))["check_gradients_batch_missing_classes"]
    assert outcome.passed and "regression, which has no class labels" in outcome.findings[0].message


def test_columns_binary_with_labels_1_by_n_is_checked():
    """A sigmoid + BCE network with labels (1, n), examples as columns: checked, not crashed."""
    suite = run_suite(BinaryNet(layout="columns"), batch_size=64)
    assert suite.passed
    assert suite["check_shapes_any_batch_size"].passed
