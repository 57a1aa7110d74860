"""The wire between the checking process and a target's: values cross intact, nothing else does."""

from __future__ import annotations

import io
import json
import pickle
import socket
import struct

import numpy as np
import pytest

from gradcheck.frontends import wire


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def _roundtrip(pair, value):
    a, b = pair
    out: list = []
    header = {"value": wire.Encoder(out).value(value)}
    wire.send(a, header, out)
    got_header, arrays = wire.receive(b)
    return wire.decode(got_header["value"], arrays)


@pytest.mark.parametrize("value", [
    None, True, 3, -2 ** 80, 1.5, float("inf"), "W1", complex(1, 2),
    [1, [2, 3]], (1, (2.0, "x")), {"W": 1, "b": [2]},
])
def test_plain_values_cross_with_their_types(pair, value):
    got = _roundtrip(pair, value)
    assert got == value and type(got) is type(value)


def test_arrays_and_numpy_scalars_keep_dtype_shape_and_bits(pair):
    rng = np.random.default_rng(0)
    value = {"W": rng.standard_normal((3, 4)).astype(np.float32), "F": np.asfortranarray(rng.standard_normal((5, 2))),
             "scalar": np.float32(2.5), "labels": np.arange(4), "empty": np.zeros((0, 3)),
             "zero_d": np.array(7.0), "mask": np.array([True, False])}
    got = _roundtrip(pair, value)
    for name, array in value.items():
        assert type(got[name]) is type(array), name
        assert np.asarray(got[name]).dtype == np.asarray(array).dtype, name
        assert np.asarray(got[name]).shape == np.asarray(array).shape, name
        assert np.asarray(got[name]).tobytes() == np.ascontiguousarray(array).tobytes(), name
    assert got["W"].flags.writeable and got["W"].ctypes.data % 16 == 0  # aligned: computes at full speed


def test_anything_else_crosses_as_a_stand_in_with_its_type_name(pair):
    class Foo:
        def __repr__(self):
            return "<Foo 1>"

    got = _roundtrip(pair, {"f": Foo(), "objects": np.array([Foo()], dtype=object), "key": {1: 2}})
    assert type(got["f"]).__name__ == "Foo" and repr(got["f"]) == "<Foo 1>"
    assert type(got["objects"]).__name__ == "ndarray" and "Foo" in repr(got["objects"])
    assert isinstance(got["key"], wire.Opaque)


def test_a_large_argument_sent_again_unchanged_crosses_as_its_handle(pair):
    a, b = pair
    X = np.random.default_rng(0).standard_normal((64, 80))  # over the 32 KiB sent once, under a socket buffer
    sender, keeper = wire.SentArrays(), wire.SentArrays()
    sizes = []
    for change in (False, False, True):
        if change:
            X[0, 0] += 1.0
        out: list = []
        header = {"value": wire.Encoder(out, cache=sender).value(X)}
        wire.send(a, header, out)
        got_header, arrays = wire.receive(b)
        sizes.append(len(arrays))
        got = wire.decode(got_header["value"], arrays, cache=keeper)
        assert got.tobytes() == X.tobytes()
        got[0, 0] = 99.0  # a call that writes into its argument changes nothing for the next
    assert sizes == [1, 0, 1]


def _raw_frame(header: bytes, arrays: list[bytes], magic=wire.MAGIC) -> bytes:
    header += b" " * (-len(header) % wire.ALIGN)
    body = header + b"".join(a + bytes(-len(a) % wire.ALIGN) for a in arrays)
    lengths = struct.pack(f"<{len(arrays)}Q", *map(len, arrays))
    return struct.pack("<4sII", magic, len(header), len(arrays)) + lengths + body


def _npy(array, **kwargs) -> bytes:
    out = io.BytesIO()
    np.save(out, array, **kwargs)
    return out.getvalue()


def _object_npy() -> bytes:
    return _npy(np.array([{"a": 1}], dtype=object), allow_pickle=True)


#: name -> raw bytes of a malformed message, and words of the error it must raise
MALFORMED = {
    "bad magic": (_raw_frame(b"{}", [], magic=b"EVIL"), "starting with"),
    "header not JSON": (_raw_frame(b"\x80not json", []), "not JSON"),
    "header a list": (_raw_frame(b"[1, 2]", []), "expected an object"),
    "pickled object array": (_raw_frame(b"{}", [_object_npy()]), "cannot cross"),
    "structured array": (_raw_frame(b"{}", [_npy(np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]))]), "cannot cross"),
    "length lies": (_raw_frame(b"{}", [_npy(np.zeros(4))[:-8]]), "in 24 bytes"),
    "not npy": (_raw_frame(b"{}", [b"\x93NUMPY\x01\x00" + b"x" * 60]), "malformed .npy header"),
    "a pickle instead of npy": (_raw_frame(b"{}", [pickle.dumps(np.zeros(3))]), "malformed .npy header"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_message_is_refused_before_anything_is_built(pair, name):
    a, b = pair
    raw, words = MALFORMED[name]
    a.sendall(raw)
    with pytest.raises(wire.WireError, match=words):
        wire.receive(b)


def test_a_message_over_the_cap_is_refused_before_it_is_read(pair):
    a, b = pair
    # says 1.5 GiB follow; nothing of it is ever sent or read
    a.sendall(struct.pack("<4sII", wire.MAGIC, 64, 1) + struct.pack("<Q", 3 * 2 ** 29))
    with pytest.raises(wire.WireError, match="more than the cap"):
        wire.receive(b, limit=2 ** 20)


@pytest.mark.parametrize(("prefix", "words"), [
    (struct.pack("<4sII", wire.MAGIC, wire.MAX_HEADER + 64, 0), "a header of"),
    (struct.pack("<4sII", wire.MAGIC, 64, wire.MAX_ARRAYS + 1), "arrays in one message"),
    (struct.pack("<4sII", wire.MAGIC, 63, 0), "not a multiple"),
])
def test_headers_and_counts_are_capped(pair, prefix, words):
    a, b = pair
    a.sendall(prefix)
    with pytest.raises(wire.WireError, match=words):
        wire.receive(b)


def test_a_connection_closed_mid_message_is_closed(pair):
    a, b = pair
    a.sendall(_raw_frame(json.dumps({"x": 1}).encode(), [])[:20])
    a.close()
    with pytest.raises(wire.Closed):
        wire.receive(b)


@pytest.mark.parametrize("value", [
    {"$array": 3}, {"$array": "0"}, {"$eval": "__import__('os')"}, {"a": 1, "b": 2},
    {"$dict": [[1, 2]]}, {"$int": "12x"}, {"$known": "t0.p0"}, {"$cached": 5},
])
def test_an_unknown_or_dangling_value_is_refused(value):
    with pytest.raises(wire.WireError):
        wire.decode(value, [])
