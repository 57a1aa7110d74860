"""Parameters that map a file are checked on in-memory copies, put back, and never written."""

from __future__ import annotations

import mmap
import types

import numpy as np
import pytest

import gradcheck
from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.inmemory import InMemory, file_backed


@pytest.fixture
def mapped(tmp_path):
    """An ``np.memmap`` of 6 float64 values opened ``r+``, and its file's bytes."""
    path = tmp_path / "W.bin"
    np.arange(6, dtype=np.float64).tofile(path)
    return np.memmap(path, dtype=np.float64, mode="r+", shape=(2, 3)), path, path.read_bytes()


def test_which_arrays_write_into_a_file(mapped, tmp_path):
    array, path, _ = mapped
    with open(path, "r+b") as handle:
        over_mmap = np.frombuffer(mmap.mmap(handle.fileno(), 0), dtype=np.float64)
    table = {
        "memmap r+": (array, True),
        "a view of it": (array[1:, ::2], True),
        "an array over mmap.mmap": (over_mmap, True),
        "memmap copy-on-write": (np.memmap(path, dtype=np.float64, mode="c"), False),
        "memmap read-only": (np.memmap(path, dtype=np.float64, mode="r"), False),
        "an in-memory copy": (np.array(array), False),
        "not an array": ([1.0, 2.0], False),
    }
    assert {name: file_backed(value) is not None for name, (value, _) in table.items()} == \
        {name: expected for name, (_, expected) in table.items()}


def test_params_closures_and_attributes_hold_copies_inside_and_the_originals_after(mapped):
    array, _, _ = mapped
    params = {"W": array}
    layer = types.SimpleNamespace(W=array)

    def loss():
        return float(array.sum())

    with InMemory(params, loss, layer) as swapped:
        inside = (params["W"], loss.__closure__[0].cell_contents, layer.W)
        assert all(file_backed(a) is None and np.array_equal(a, array) for a in inside)
        assert swapped.names == ["W"]
    assert params["W"] is array and loss.__closure__[0].cell_contents is array and layer.W is array


def test_a_mapping_that_cannot_take_a_copy_is_refused_naming_the_entry(mapped):
    array, _, _ = mapped
    with pytest.raises(InvalidArgumentError) as error:
        with InMemory(types.MappingProxyType({"W": array})):
            pass
    assert "params['W']" in str(error.value) and "mmap_mode='c'" in str(error.value)


def test_check_gradients_of_a_memory_mapped_network_leaves_its_file_unwritten(mapped):
    array, path, original = mapped
    x = np.array([0.5, -1.0, 2.0])
    params = {"W": array}
    read = []

    def loss():
        read.append(file_backed(params["W"]))  # what the check moves: never the mapped file
        return float(np.sum((params["W"] @ x) ** 2))

    def gradients():
        return {"W": 2.0 * np.outer(params["W"] @ x, x) * 3.0}  # three times too large

    result = gradcheck.check_gradients(loss, params, gradients)
    assert not result.passed  # the check ran on the copy and saw the values
    assert read and set(read) == {None}
    assert params["W"] is array and path.read_bytes() == original
