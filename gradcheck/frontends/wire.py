"""The wire between a checking process and the process that runs a target: nothing executable.

Every message is one frame: a small JSON header and a list of arrays in NumPy's ``.npy``
format, length-prefixed::

    b"GCW1" | u32 header bytes | u32 arrays | u64 bytes of each array | header | arrays

The header is padded with spaces, and each array with zeros, to a multiple of :data:`ALIGN`
bytes, so that every array's data is aligned where it is read (NumPy's ``.npy`` header pads
itself to 64 bytes): an array read from a frame computes as fast as one made in place.

The reader refuses a frame before reading it when its lengths pass the caps (a header of
:data:`MAX_HEADER`, :data:`MAX_ARRAYS` arrays, ``limit`` bytes in all), parses the header as
JSON (an object) and each array with NumPy's own ``.npy`` header parser, which evaluates
nothing (``allow_pickle=False`` semantics: object, structured and sub-array dtypes are
refused). Arrays are read without a copy, straight from the received buffer.

Values returned by user code (a loss, a dict of gradients, a tuple, an exception's data) cross
as a tree of JSON values and array references (:func:`encode` and :func:`decode`): numbers,
strings, lists, tuples, dicts, arrays and NumPy scalars keep their types; anything else arrives
as an :class:`Opaque` stand-in holding its type's name and a short ``repr``, enough for a
message such as "returned Foo <Foo at 0x...>, expected a scalar float loss". Any departure from
the format raises :class:`WireError`.
"""

from __future__ import annotations

import io
import json
import math
import socket
import struct
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

MAGIC = b"GCW1"
_PREFIX = struct.Struct("<4sII")
#: Largest JSON header of one message, in bytes.
MAX_HEADER = 8 * 2 ** 20
#: Most arrays in one message.
MAX_ARRAYS = 65_536
#: Default cap on one whole message, in bytes (a reader may set its own).
MAX_MESSAGE = 256 * 2 ** 20
#: Longest string kept from user code (a repr, an exception message).
MAX_TEXT = 4000
#: Alignment of the header's end and of each array in a frame, in bytes.
ALIGN = 64
#: Deepest nesting of a value, and most items in one value.
MAX_DEPTH = 24
MAX_ITEMS = 200_000
#: Arguments this large (bytes) are sent once and then named (see :class:`SentArrays`).
CACHED_BYTES = 32 * 1024
#: Array dtypes that may cross: booleans, integers, floats and complex numbers, native sizes.
ARRAY_KINDS = "biufc"
MAX_DIMS = 32


class WireError(Exception):
    """A message that is not a well-formed frame, or breaks a cap; ``str`` says which and how."""


class Closed(WireError):
    """The other end closed the connection (the process ended) before a whole frame came."""


class Opaque:
    """A value of a type that cannot cross the wire, as its type's name and ``repr``.

    ``type(x).__name__`` is the original type's name, so messages about it read the same.
    """

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


_OPAQUE_TYPES: dict[str, type] = {}


def opaque(type_name: str, text: str) -> Opaque:
    """An :class:`Opaque` whose type is called ``type_name`` (an identifier, else "object")."""
    name = type_name if type_name.isidentifier() and len(type_name) <= 80 else "object"
    kind = _OPAQUE_TYPES.get(name)
    if kind is None:
        kind = _OPAQUE_TYPES[name] = type(name, (Opaque,), {"__slots__": ()})
    return kind(text[:MAX_TEXT])


# -- arrays ---------------------------------------------------------------------------------------


def checked_dtype(dtype: np.dtype) -> np.dtype:
    """``dtype`` when arrays of it may cross; else WireError."""
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None \
            or dtype.kind not in ARRAY_KINDS or dtype.itemsize > 32:
        raise WireError(f"an array of dtype {dtype} cannot cross (numbers and booleans only)")
    return dtype


def npy_header(array: np.ndarray) -> bytes:
    """The ``.npy`` header (magic, version, dict) of a C-contiguous ``array``."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, np.lib.format.header_data_from_array_1_0(array))
    return out.getvalue()


def to_npy(array: np.ndarray) -> list:
    """``array`` as ``.npy`` pieces [header, data], the data a view (no copy when contiguous)."""
    if not array.flags.c_contiguous:  # (np.ascontiguousarray would make a 0-d array 1-d)
        array = array.copy(order="C")
    checked_dtype(array.dtype)
    data = memoryview(array.reshape(-1).view(np.uint8)) if array.size else b""
    return [npy_header(array), data]


def from_npy(buffer: bytearray | memoryview, start: int, length: int) -> np.ndarray:
    """The array of the ``.npy`` bytes ``buffer[start:start + length]``, a writable view of them."""
    view = memoryview(buffer)[start:start + length]
    head = io.BytesIO(bytes(view[:min(length, 65_536)]))
    try:
        version = np.lib.format.read_magic(head)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(head)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(head)
        else:
            raise WireError(f"an array in .npy version {version}, expected 1.0 or 2.0")
    except (ValueError, SyntaxError, TypeError) as exc:  # NumPy's own words for a bad header
        raise WireError(f"an array with a malformed .npy header ({exc})") from None
    dtype = checked_dtype(np.dtype(dtype))
    if len(shape) > MAX_DIMS or any(not isinstance(n, int) or n < 0 for n in shape):
        raise WireError(f"an array of shape {shape!r}")
    offset = head.tell()
    count = math.prod(shape)
    if count * dtype.itemsize != length - offset:
        raise WireError(f"an array of shape {shape} and dtype {dtype} in {length - offset} bytes")
    array = np.frombuffer(buffer, dtype=dtype, count=count, offset=start + offset)
    return array.reshape(shape, order="F" if fortran else "C")


# -- frames ---------------------------------------------------------------------------------------


def _padding(size: int) -> int:
    return -size % ALIGN


def frame(header: Mapping[str, Any], arrays: list[np.ndarray]) -> list:
    """The pieces of one message: write them in order (``socket.sendall`` each)."""
    text = json.dumps(header, separators=(",", ":"), allow_nan=True).encode("utf-8")
    text += b" " * _padding(len(text))
    pieces = [to_npy(a) for a in arrays]
    lengths = [len(h) + len(d) for h, d in pieces]
    out = [_PREFIX.pack(MAGIC, len(text), len(arrays)), struct.pack(f"<{len(arrays)}Q", *lengths), text]
    for (head, data), length in zip(pieces, lengths):
        out += [head, data, bytes(_padding(length))]
    return out


def send(sock: socket.socket, header: Mapping[str, Any], arrays: list[np.ndarray]) -> None:
    """Write one message to ``sock`` (blocking, or within its timeout): one system call for a
    small one, as few as the socket takes for a large one."""
    pieces = [memoryview(p).cast("B") for p in frame(header, arrays) if len(p)]
    while pieces:
        sent = sock.sendmsg(pieces[:512])
        while pieces and sent >= len(pieces[0]):
            sent -= len(pieces[0])
            pieces.pop(0)
        if sent:
            pieces[0] = pieces[0][sent:]


def _read_exactly(sock: socket.socket, size: int, deadline: float | None, into=None) -> bytearray:
    buffer = bytearray(size) if into is None else into
    view = memoryview(buffer)
    got = 0
    while got < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("a message stopped half way")
            sock.settimeout(left)
        try:
            n = sock.recv_into(view[got:], size - got)
        except TimeoutError:
            raise TimeoutError("a message stopped half way") from None
        if n == 0:
            raise Closed("the connection closed" + (" in the middle of a message" if got or into is not None else ""))
        got += n
    return buffer


def receive(sock: socket.socket, *, limit: int = MAX_MESSAGE,
            deadline: float | None = None) -> tuple[dict, list[np.ndarray]]:
    """Read one message: ``(header, arrays)``; WireError if it is malformed or over ``limit`` bytes.

    ``deadline`` (``time.monotonic()``) bounds the wait for the rest of a message that has begun.
    """
    prefix = _read_exactly(sock, _PREFIX.size, deadline)
    magic, header_size, count = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise WireError(f"a frame starting with {bytes(magic)!r}, expected {MAGIC!r}")
    if header_size > MAX_HEADER:
        raise WireError(f"a header of {header_size:,} bytes, more than the cap of {MAX_HEADER:,}")
    if count > MAX_ARRAYS:
        raise WireError(f"{count:,} arrays in one message, more than the cap of {MAX_ARRAYS:,}")
    lengths = struct.unpack(f"<{count}Q", _read_exactly(sock, 8 * count, deadline)) if count else ()
    if header_size % ALIGN:
        raise WireError(f"a header of {header_size} bytes, not a multiple of {ALIGN}")
    total = header_size + sum(n + _padding(n) for n in lengths)
    if total > limit:
        raise WireError(f"a message of {total:,} bytes, more than the cap of {limit:,} bytes")
    body = _read_exactly(sock, total, deadline, bytearray(total))
    try:
        header = json.loads(bytes(memoryview(body)[:header_size]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireError(f"a header that is not JSON ({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise WireError(f"a header that is a JSON {type(header).__name__}, expected an object")
    arrays, start = [], header_size
    for length in lengths:
        arrays.append(from_npy(body, start, length))
        start += length + _padding(length)
    return header, arrays


# -- values ---------------------------------------------------------------------------------------


class Encoder:
    """Turns a value from user code into JSON and arrays (:meth:`value`).

    ``known(array)`` may name an array the other side already holds (a parameter): it crosses
    as a reference to it, so identity survives (a gradient that *is* the parameter array).
    """

    def __init__(self, arrays: list[np.ndarray] | None = None,
                 known: Callable[[np.ndarray], str | None] | None = None, cache: SentArrays | None = None):
        self.arrays = [] if arrays is None else arrays
        self.known = known
        self.cache = cache
        self.items = 0

    def array(self, array: np.ndarray) -> dict:
        self.arrays.append(array)
        return {"$array": len(self.arrays) - 1}

    def value(self, value: Any, depth: int = 0) -> Any:
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            return {"$opaque": [type(value).__name__, "(too deeply nested or too large to send)"]}
        if value is None or isinstance(value, (bool, str)):
            return value if not isinstance(value, str) else value[:MAX_TEXT * 4]
        if isinstance(value, int) and not isinstance(value, np.integer):
            return value if abs(value) < 2 ** 53 else {"$int": _digits(value)}
        if isinstance(value, float) and type(value) is float:
            return value
        if isinstance(value, complex):
            return {"$complex": [value.real, value.imag]}
        if isinstance(value, np.ndarray):
            if self.known is not None:
                key = self.known(value)
                if key is not None:
                    return {"$known": key}
            if self.cache is not None and value.nbytes >= CACHED_BYTES and value.dtype.kind in ARRAY_KINDS:
                handle, new = self.cache.handle(value)
                if not new:
                    return {"$cached": handle}
                return {"$cache": [handle, self.array(np.asarray(value))["$array"]]}
            if value.dtype.kind in ARRAY_KINDS and not value.dtype.hasobject and value.dtype.fields is None \
                    and value.dtype.subdtype is None and type(value) in (np.ndarray, np.memmap):
                return self.array(np.asarray(value))
            return _opaque_value(value)
        if isinstance(value, np.generic) and np.dtype(type(value)).kind in ARRAY_KINDS:
            return {"$scalar": self.array(np.asarray(value))["$array"]}
        if type(value) is tuple:
            return {"$tuple": [self.value(v, depth + 1) for v in value]}
        if type(value) is list:
            return [self.value(v, depth + 1) for v in value]
        if isinstance(value, Mapping) and type(value).__module__ in ("builtins", "collections"):
            try:
                items = list(value.items())
            except Exception:  # noqa: BLE001 - a mapping of the user's that cannot be listed
                return _opaque_value(value)
            if all(isinstance(k, str) for k, _ in items):
                return {"$dict": [[k[:MAX_TEXT], self.value(v, depth + 1)] for k, v in items]}
        return _opaque_value(value)


def _digits(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # more digits than int -> str allows
        return ("-" if value < 0 else "") + "9" * 5000


def _opaque_value(value: Any) -> dict:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr of the user's that raises
        text = f"<{type(value).__name__}>"
    return {"$opaque": [type(value).__name__, text[:MAX_TEXT]]}


class SentArrays:
    """Large arguments the other side keeps (the batch X of every call): sent once, then named.

    The sending side asks :meth:`handle` for each large array: ``(handle, new)``; an array sent
    before, unchanged to the bit, crosses as its handle. The receiving side keeps what it was
    sent under the handle (:meth:`keep`) and gives each call a fresh copy (:meth:`get`), so a
    call that writes into its argument changes nothing for the next.
    """

    def __init__(self, size: int = 8):
        self.size = size
        self.sent: dict[int, tuple] = {}  # handle -> (weak reference, copy) on the sending side
        self.kept: dict[int, np.ndarray] = {}  # handle -> array on the receiving side
        self.next = 0

    def handle(self, array: np.ndarray) -> tuple[int, bool]:
        import weakref

        for handle, (ref, copy) in self.sent.items():
            if ref() is array and copy.shape == array.shape and copy.dtype == array.dtype \
                    and _same_bits(copy, array):
                return handle, False
        self.next += 1
        try:
            ref = weakref.ref(array)
        except TypeError:
            return self.next, True
        self.sent[self.next] = (ref, np.array(array, copy=True))
        while len(self.sent) > self.size:
            del self.sent[min(self.sent)]
        return self.next, True

    def keep(self, handle: int, array: np.ndarray) -> np.ndarray:
        self.kept[handle] = array
        while len(self.kept) > self.size:
            del self.kept[min(self.kept)]
        return array.copy()

    def get(self, handle: int) -> np.ndarray:
        if handle not in self.kept:
            raise WireError(f"a reference to array {handle!r}, which was not kept")
        return self.kept[handle].copy()


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.ascontiguousarray(a).reshape(-1), np.ascontiguousarray(b).reshape(-1)
    size = a.dtype.itemsize
    kind = f"u{size}" if size in (1, 2, 4, 8) else np.uint8
    return np.array_equal(a.view(kind), b.view(kind))


def decode(value: Any, arrays: list[np.ndarray], known: Callable[[str], np.ndarray] | None = None,
           depth: int = 0, cache: SentArrays | None = None) -> Any:
    """The value :meth:`Encoder.value` wrote; WireError for anything else."""
    if depth > MAX_DEPTH + 2:
        raise WireError("a value nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [decode(v, arrays, known, depth + 1, cache) for v in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise WireError(f"a value of unknown form {str(value)[:80]!r}")
    (tag, body), = value.items()
    if tag == "$array":
        return _array_at(arrays, body)
    if tag == "$scalar":
        array = _array_at(arrays, body)
        if array.shape != ():
            raise WireError("a scalar sent as an array of shape " + str(array.shape))
        return array[()]
    if tag == "$tuple" and isinstance(body, list):
        return tuple(decode(v, arrays, known, depth + 1, cache) for v in body)
    if tag == "$dict" and isinstance(body, list):
        out = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise WireError("a dict entry that is not [str, value]")
            out[pair[0]] = decode(pair[1], arrays, known, depth + 1, cache)
        return out
    if tag == "$int" and isinstance(body, str) and body.lstrip("-").isdigit() and len(body) < 6000:
        return int(body)
    if tag == "$complex" and isinstance(body, list) and len(body) == 2 \
            and all(isinstance(v, (int, float)) for v in body):
        return complex(body[0], body[1])
    if tag == "$opaque" and isinstance(body, list) and len(body) == 2 \
            and all(isinstance(v, str) for v in body):
        return opaque(body[0], body[1])
    if tag == "$known" and isinstance(body, str) and known is not None:
        return known(body)
    if tag == "$cache" and cache is not None and isinstance(body, list) and len(body) == 2 \
            and isinstance(body[0], int):
        return cache.keep(body[0], _array_at(arrays, body[1]))
    if tag == "$cached" and cache is not None and isinstance(body, int):
        return cache.get(body)
    raise WireError(f"a value tagged {tag!r}")


def _array_at(arrays: list[np.ndarray], index: Any) -> np.ndarray:
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(arrays):
        raise WireError(f"a reference to array {index!r} of {len(arrays)}")
    return arrays[index]


# -- fields ---------------------------------------------------------------------------------------


def field(header: Mapping[str, Any], name: str, kind: type | tuple, *, optional: bool = False) -> Any:
    """``header[name]`` when it is of ``kind``; WireError naming the field otherwise."""
    if name not in header:
        if optional:
            return None
        raise WireError(f"a message without its {name!r} field")
    value = header[name]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise WireError(f"the field {name!r} is a bool")
    if not isinstance(value, kind):
        raise WireError(f"the field {name!r} is a JSON {type(value).__name__}")
    return value


def text(value: Any, *, limit: int = MAX_TEXT) -> str:
    """A string from the other side, cut to ``limit`` characters; WireError if not a string."""
    if not isinstance(value, str):
        raise WireError(f"a {type(value).__name__} where text was expected")
    return value[:limit]
