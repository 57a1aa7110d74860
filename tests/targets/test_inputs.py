"""Input specs of any shape: images (n, c, h, w) and one image (h, w) per example, token sequences
with time steps, ordered examples; synthetic batches and the user's data follow them."""

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.probes.inputs import probe_batch
from gradcheck.targets.batches import synthetic_batch
from gradcheck.targets.data import DataSet
from gradcheck.targets.inputs import input_spec
from gradcheck.targets.tasks import Task


class Declared:
    """A target that only declares what it reads (enough for batches)."""

    layout = "rows"

    def __init__(self, **spec):
        self.input_spec = spec
        self.params = {"W": np.zeros((3, 4)), "b": np.zeros(4)}

    def loss(self, X, y):
        return 0.0


@pytest.mark.parametrize("shape", [(1, 28, 28), (28, 28), (3, 5, 5)])
def test_an_image_spec_gives_image_batches(shape):
    X, y, layout = synthetic_batch(Declared(shape=shape), 4, task=Task("multiclass", 10, True), layout="rows")
    assert X.shape == (4, *shape) and layout == "rows" and y.shape == (4,)
    assert 0 <= X.min() and X.max() < 1


def test_a_sequence_spec_has_steps_that_can_be_fewer():
    spec = input_spec(Declared(shape=(25,), dtype="int", vocab=65, sequence=True))
    assert spec.steps == 25 and spec.sequence and not spec.ordered
    fewer = spec.with_steps(3)
    assert fewer.shape == (3,) and fewer.vocab == 65
    X, _, _ = synthetic_batch(Declared(shape=(25,), dtype="int", vocab=65, sequence=True), 2,
                              task=Task("sequence", 65, False, length=3), layout="rows", spec=fewer)
    assert X.shape == (2, 3) and X.dtype == np.int64
    assert spec.to_dict() == {"shape": (25,), "dtype": "int", "vocab": 65, "sequence": True}


@pytest.mark.parametrize(("spec", "said"), [
    ({"shape": (4,), "ordered": "yes"}, "input_spec['ordered'] is 'yes', expected True or False"),
    ({"shape": (4,), "steps": 3}, "unknown keys ['steps']"),
])
def test_a_malformed_flag_is_named(spec, said):
    with pytest.raises(ProtocolError, match=said.replace("[", r"\[").replace("]", r"\]")):
        input_spec(Declared(**spec))


def test_flat_pixels_from_a_file_become_the_images_the_spec_declares():
    target = Declared(shape=(28, 28))
    data = DataSet.from_arrays(np.random.default_rng(0).uniform(0, 1, (6, 784)), np.arange(6) % 3)
    fitted = data.fitted(target, "rows", Task("multiclass", 3, True))
    X, y = fitted.batch(4, seed=0, layout="rows", task=Task("multiclass", 3, True), dtype=np.float64)
    assert X.shape == (4, 28, 28) and y.shape == (4,)


def test_images_saved_with_their_shape_are_read_as_rows():
    data = DataSet.from_arrays(np.zeros((5, 1, 4, 4)), np.arange(5) % 2)
    assert data.X.shape == (5, 16)


def test_data_of_another_width_than_the_spec_is_refused_with_both_numbers():
    data = DataSet.from_arrays(np.zeros((5, 784)), np.arange(5) % 2)
    with pytest.raises(InvalidArgumentError, match=r"784 numbers, the target's input_spec \(1, 6, 6\) takes 36"):
        data.fitted(Declared(shape=(1, 6, 6)), "rows", Task("multiclass", 2, True))


def test_the_probes_take_image_batches_of_a_rows_target():
    X, y = probe_batch(Declared(shape=(1, 4, 4)), np.zeros((3, 1, 4, 4)), np.arange(3))
    assert X.shape == (3, 1, 4, 4)
