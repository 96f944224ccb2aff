"""The wire between the trusted grader and the student's worker process.

Everything that crosses the trust boundary goes through this module, in both
directions, and it carries plain data only: never pickle, never objects with
behaviour. A frame is a 4-byte big-endian length followed by UTF-8 JSON.
Values are JSON, plus tagged objects for what JSON cannot say:

    {"$tensor":  {"dtype": "float32", "shape": [2, 3], "device": "cpu", "data": "<base64>"}}
    {"$ndarray": {"dtype": "int64", "shape": [4], "data": "<base64>"}}
    {"$tuple":   [...]}
    {"$handle":  7}          an object that stays in the worker (see ``remote.py``)

Decoding is strict because the worker side is untrusted: unknown tags, dtypes
outside ``ALLOWED_DTYPES``, shapes that disagree with the byte count, devices
this machine lacks, and replies over ``MAX_REPLY_BYTES`` or ``MAX_REPLY_VALUES``
are all ``WireError``s. A decoded
tensor is always a fresh, plain ``torch.Tensor`` built from bytes, so a tensor
subclass sent by a student can never reach a comparison on the trusted side.
"""

from __future__ import annotations

import base64
import json
import os
import select
import struct
import time
from typing import Any

import numpy as np
import torch

MAX_FRAME_BYTES = 256 * 1024 * 1024
"""Requests: built by the trusted side (the notebook's code, a test's inputs)."""
MAX_REPLY_BYTES = 8 * 1024 * 1024
"""Replies, which the trusted side must parse: the suites' largest is 1.8 MB (an a2 test's
tensors), their next below 20 kB. A frame of 16 MB once cost a grading process 1 GB and
30 s of JSON parsing, outside any deadline; now its length alone makes it a WireError."""
MAX_REPLY_VALUES = 100_000
"""Values in one reply (each list item, dict entry and tagged object counts): the suites'
largest holds about 200. Bytes alone do not bound the cost: 8 MiB of ``[[],[],...`` is
4 million lists."""
MAX_DIMS = 8

ALLOWED_DTYPES: dict[str, torch.dtype] = {
    "bool": torch.bool,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}
_DTYPE_NAMES = {dtype: name for name, dtype in ALLOWED_DTYPES.items()}


class WireError(Exception):
    """A frame or value that breaks the wire format; the worker is not trusted after one."""


class WireClosed(WireError):
    """The other end closed its side of the pipe (the worker exited or was killed)."""


class WireTimeout(WireError):
    """No whole frame arrived before the deadline."""


# --------------------------------------------------------------------------- values


def encode(value: Any) -> Any:
    """Turn a value into JSON-ready plain data; raise TypeError for anything else."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, torch.Tensor):
        return {"$tensor": _encode_tensor(value)}
    if isinstance(value, np.ndarray):
        return {"$ndarray": _encode_ndarray(value)}
    if isinstance(value, np.generic):
        return encode(value.item())
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return _encode_dict(value)
    handle = getattr(value, "__wire_handle__", None)
    if isinstance(handle, int):
        return {"$handle": handle}
    raise TypeError(f"cannot send a value of type {type(value).__name__}")


def _encode_dict(value: dict) -> dict:
    out = {}
    for key, item in value.items():
        if type(key) is not str or key.startswith("$"):
            raise TypeError(f"dictionary keys must be strings not starting with '$', got {key!r}")
        out[key] = encode(item)
    return out


def _encode_tensor(tensor: torch.Tensor) -> dict:
    """Copy a tensor's bytes out, ignoring any subclass behaviour it carries."""
    with torch._C.DisableTorchFunctionSubclass():
        plain = torch.Tensor.as_subclass(tensor, torch.Tensor)
        device = str(plain.device)
        plain = plain.detach().to("cpu").contiguous()
    if plain.dtype not in _DTYPE_NAMES:
        raise TypeError(f"tensors of dtype {plain.dtype} cannot be sent")
    if plain.dtype == torch.bfloat16:
        raw = plain.view(torch.int16).numpy().tobytes()
    else:
        raw = plain.numpy().tobytes()
    return {
        "dtype": _DTYPE_NAMES[plain.dtype],
        "shape": list(plain.shape),
        "device": device,
        "data": base64.b64encode(raw).decode("ascii"),
    }


def _encode_ndarray(array: np.ndarray) -> dict:
    name = array.dtype.name
    if name not in ALLOWED_DTYPES or name == "bfloat16":
        raise TypeError(f"arrays of dtype {array.dtype} cannot be sent")
    return {
        "dtype": name,
        "shape": list(array.shape),
        "data": base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii"),
    }


def decode(value: Any, *, handle_factory=None) -> Any:
    """Rebuild plain data from the wire, rejecting anything outside the format.

    ``handle_factory(id)`` builds the trusted side's stand-in for an object kept in
    the worker; without one, handles are refused.
    """
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return [decode(v, handle_factory=handle_factory) for v in value]
    if type(value) is not dict:
        raise WireError(f"unexpected JSON value of type {type(value).__name__}")
    tagged = [key for key in value if key.startswith("$")]
    if not tagged:
        return {key: decode(item, handle_factory=handle_factory) for key, item in value.items()}
    if len(value) != 1:
        raise WireError(f"a tagged object must have exactly one key, got {sorted(value)}")
    tag, body = next(iter(value.items()))
    if tag == "$tuple" and type(body) is list:
        return tuple(decode(v, handle_factory=handle_factory) for v in body)
    if tag == "$tensor" and type(body) is dict:
        return _decode_tensor(body)
    if tag == "$ndarray" and type(body) is dict:
        return _decode_ndarray(body)
    if tag == "$handle" and type(body) is int and handle_factory is not None:
        return handle_factory(body)
    raise WireError(f"unexpected tagged object {tag!r}")


def _decode_raw(body: dict) -> tuple[torch.dtype, list[int], bytes]:
    name = body.get("dtype")
    dtype = ALLOWED_DTYPES.get(name) if type(name) is str else None  # a list is not even hashable
    shape = body.get("shape")
    data = body.get("data")
    if dtype is None:
        raise WireError(f"dtype {body.get('dtype')!r} is not allowed")
    if (
        type(shape) is not list
        or len(shape) > MAX_DIMS
        # no real dimension is longer than a frame; a longer one (of an empty tensor) would
        # overflow torch's int64 sizes and escape as a TypeError instead of a WireError
        or any(type(n) is not int or n < 0 or n > MAX_FRAME_BYTES for n in shape)
    ):
        raise WireError(f"bad shape {shape!r}")
    if type(data) is not str:
        raise WireError("array data must be a base64 string")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError as exc:
        raise WireError(f"array data is not base64: {exc}") from None
    itemsize = torch.empty((), dtype=dtype).element_size()
    if len(raw) != _numel(shape) * itemsize:
        raise WireError(f"{len(raw)} bytes do not fill shape {shape} of {body['dtype']}")
    return dtype, shape, raw


def _numel(shape: list[int]) -> int:
    count = 1
    for n in shape:
        count *= n
    return count


def _decode_tensor(body: dict) -> torch.Tensor:
    dtype, shape, raw = _decode_raw(body)
    device = _checked_device(body.get("device", "cpu"))
    if not raw:
        return torch.empty(shape, dtype=dtype, device=device)
    if dtype == torch.bfloat16:
        flat = torch.frombuffer(bytearray(raw), dtype=torch.int16).view(torch.bfloat16)
    else:
        flat = torch.frombuffer(bytearray(raw), dtype=dtype)
    # clone: a fresh tensor that owns its memory, not a view (``detach_()`` must work on it)
    return flat.reshape(shape).clone().to(device)


def _decode_ndarray(body: dict) -> np.ndarray:
    if body.get("dtype") == "bfloat16":
        raise WireError("numpy arrays cannot be bfloat16")
    _, shape, raw = _decode_raw(body)
    return np.frombuffer(raw, dtype=np.dtype(body["dtype"])).reshape(shape).copy()


def _checked_device(name: Any) -> torch.device:
    """Accept only 'cpu' and CUDA devices that exist here: a claimed device is data too."""
    if name == "cpu":
        return torch.device("cpu")
    if type(name) is str and name.startswith("cuda:") and name[5:].isdigit():
        if torch.cuda.is_available() and int(name[5:]) < torch.cuda.device_count():
            return torch.device(name)
    raise WireError(f"device {name!r} is not available on the grading side")


# --------------------------------------------------------------------------- frames


def pack(message: dict, max_bytes: int = MAX_FRAME_BYTES, max_values: int | None = None) -> bytes:
    """Serialise one message as a length-prefixed JSON frame."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    if len(body) > max_bytes:
        raise WireError(f"frame of {len(body)} bytes exceeds the limit of {max_bytes}")
    _check_values(body, max_values)
    return struct.pack(">I", len(body)) + body


def _check_values(body: bytes, max_values: int | None) -> None:
    """Refuse, before parsing, a body that could hold more than ``max_values`` values.

    Every value but the first follows a ``,`` or opens with ``[`` or ``{``, so counting
    those bytes (in C: milliseconds for a whole frame) bounds them from above; the same
    bytes inside strings count too, which only errs on the safe side.
    """
    if max_values is not None:
        count = body.count(b",") + body.count(b"[") + body.count(b"{")
        if count > max_values:
            raise WireError(f"a frame of more than {max_values} values ({count} separators)")


def unpack(body: bytes, max_values: int | None = None) -> dict:
    """Parse a frame body; anything but a JSON object is a protocol error."""
    _check_values(body, max_values)
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireError(f"frame is not JSON: {exc}") from None
    if type(message) is not dict:
        raise WireError("a frame must hold a JSON object")
    return message


def write_frame(
    fd: int, message: dict, max_bytes: int = MAX_FRAME_BYTES, max_values: int | None = None
) -> None:
    data = memoryview(pack(message, max_bytes, max_values))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def read_frame(
    fd: int, deadline: float | None = None, max_bytes: int = MAX_FRAME_BYTES, max_values: int | None = None
) -> dict:
    """Read one whole frame; with a deadline (``time.monotonic()`` based), raise WireTimeout,
    also when parsing it ends after the deadline: reading a reply is part of the test's time."""
    header = _read_exactly(fd, 4, deadline)
    (length,) = struct.unpack(">I", header)
    if length > max_bytes:
        raise WireError(f"frame of {length} bytes exceeds the limit of {max_bytes}")
    message = unpack(_read_exactly(fd, length, deadline), max_values)
    if deadline is not None and time.monotonic() > deadline:
        raise WireTimeout("the reply was not read before the deadline")
    return message


def read_reply(fd: int, deadline: float | None = None) -> dict:
    """A worker's reply, within the caps on what it may cost the trusted side to read."""
    return read_frame(fd, deadline, MAX_REPLY_BYTES, MAX_REPLY_VALUES)


def write_reply(fd: int, message: dict) -> None:
    """The worker's side of ``read_reply``: a reply over the cap is a WireError here, so that
    a legitimate but huge return value becomes a clear error instead of a broken protocol."""
    write_frame(fd, message, MAX_REPLY_BYTES, MAX_REPLY_VALUES)


def _read_exactly(fd: int, count: int, deadline: float | None) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise WireTimeout("no reply before the deadline")
        chunk = os.read(fd, min(count - len(chunks), 1 << 20))
        if not chunk:
            raise WireClosed("the worker closed the connection")
        chunks += chunk
    return bytes(chunks)
