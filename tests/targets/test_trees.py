"""Parameter trees: every float array of a nested structure once, named by its path, and gradient
trees mapped onto those names (tied arrays summed)."""

from collections import namedtuple
from types import ModuleType

import numpy as np
import pytest

from gradcheck.errors import ProtocolError
from gradcheck.targets.trees import ParamTree, globals_read, leaves, match_gradient_name


class Layer:
    def __init__(self, n):
        self.W = np.ones((n, n))
        self.b = np.zeros(n)
        self.mask = np.ones(n, dtype=bool)  # not a float array: not a parameter
        self.name = "dense"


Norm = namedtuple("Norm", "g b")


def test_paths_follow_dicts_lists_namedtuples_and_attributes():
    tree = {"embed": np.zeros((5, 2)),
            "blocks": [{"attn": {"Wo": np.zeros((2, 2))}, "ln": Norm(np.ones(2), np.zeros(2))}],
            "head": Layer(2), "steps": 3, "tokens": np.arange(4)}
    assert [path for path, _ in leaves(tree)] == [
        "embed", "blocks.0.attn.Wo", "blocks.0.ln.g", "blocks.0.ln.b", "head.W", "head.b"]
    assert ParamTree.of(tree).params["head.W"] is tree["head"].W  # the live arrays


def test_a_cycle_ends_and_a_prefix_names_the_root():
    layer = Layer(2)
    layer.parent = layer
    assert [path for path, _ in leaves(layer, "net")] == ["net.W", "net.b"]


def test_the_same_array_under_two_paths_is_checked_once_and_its_gradients_summed():
    E = np.arange(6.0).reshape(3, 2)
    tree = ParamTree.of({"embed": E, "head": {"W": E}})
    assert list(tree.params) == ["embed"]
    assert tree.notes() == ["head.W is embed (the same array): checked once, as embed, its gradients summed"]
    grads = tree.gather({"embed": np.ones((3, 2)), "head": {"W": np.full((3, 2), 2.0)}})
    assert np.array_equal(grads["embed"], np.full((3, 2), 3.0))


def test_a_transposed_view_is_tied_entry_by_entry():
    E = np.arange(6.0).reshape(3, 2)
    tree = ParamTree.of({"embed": E, "out": E.T})
    assert list(tree.params) == ["embed"] and "a view of it" in tree.notes()[0]
    g_out = np.arange(6.0).reshape(2, 3)
    grads = tree.gather({"embed": np.zeros((3, 2)), "out": g_out})
    assert np.array_equal(grads["embed"], g_out.T)


def test_a_view_of_part_of_a_parameter_adds_where_it_reads():
    W = np.zeros((4, 3))
    tree = ParamTree.of({"W": W, "first_rows": W[:2]})
    grads = tree.gather({"W": np.ones((4, 3)), "first_rows": np.full((2, 3), 5.0)})
    assert np.array_equal(grads["W"], np.array([[6.0] * 3] * 2 + [[1.0] * 3] * 2))


def test_disjoint_views_of_one_buffer_are_two_parameters():
    flat = np.zeros(10)
    tree = ParamTree.of({"W": flat[:6].reshape(2, 3), "b": flat[6:]})
    assert list(tree.params) == ["W", "b"] and not tree.ties


def test_arrays_overlapping_in_part_are_refused():
    flat = np.zeros(10)
    with pytest.raises(ProtocolError, match="overlap in part"):
        ParamTree.of({"a": flat[:6], "b": flat[4:]})


@pytest.mark.parametrize(("gradient", "names", "expected"), [
    ("dWxh", ["Wxh", "Whh"], "Wxh"), ("dx", ["x"], "x"), ("dW", ["w"], "w"), ("grad_b", ["b"], "b"),
    ("W_grad", ["W"], "W"), ("W", ["W"], "W"), ("dQ", ["W"], None)])
def test_a_gradient_is_matched_to_its_parameter_by_name(gradient, names, expected):
    assert match_gradient_name(gradient, names) == expected


def test_gradient_trees_may_name_their_leaves_d_something():
    tree = ParamTree.of({"layer": {"W": np.zeros(2), "b": np.zeros(1)}})
    grads = tree.gather({"layer": {"dW": np.ones(2), "db": np.ones(1), "dx": np.ones(3)}})
    assert set(grads) == {"layer.W", "layer.b"}  # the input's gradient names no parameter


def test_a_parameter_without_gradient_next_to_an_unknown_name_is_an_error_naming_both():
    tree = ParamTree.of({"Wxh": np.zeros(2), "Whh": np.zeros(2)})
    with pytest.raises(ProtocolError, match="no entry for Whh but entries for dWhx"):
        tree.gather({"dWxh": np.ones(2), "dWhx": np.ones(2)})


def test_globals_read_follows_the_modules_own_functions():
    module = ModuleType("rnn")
    exec("import numpy as np\nWxh = np.ones(2)\nWhh = np.ones(2)\nunused = np.ones(3)\nlr = 0.1\n"
         "def step(x):\n    return np.tanh(Wxh * x)\n"
         "def loss(x):\n    return float(np.sum(step(x) + Whh * lr))\n", module.__dict__)
    assert list(globals_read(module.loss)) == ["Wxh", "Whh"]  # in the order the code reads them
    assert list(globals_read(module.loss, follow=False)) == ["Whh"]
