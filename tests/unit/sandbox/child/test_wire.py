"""The wire carries plain data only, and the trusted side refuses anything else."""

import base64
import json

import numpy as np
import pytest
import torch

from grader.sandbox.child import wire


def roundtrip(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value))))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.bool, torch.bfloat16])
def test_tensors_cross_with_dtype_shape_and_values(dtype):
    tensor = (torch.arange(6) - 2).reshape(2, 3).to(dtype)
    back = roundtrip(tensor)
    assert type(back) is torch.Tensor and back.dtype == dtype and torch.equal(back, tensor)


def test_nested_plain_values_cross():
    value = {"loss": 0.5, "grads": [(torch.ones(2), torch.zeros(())), None], "name": "ok", "n": 3}
    back = roundtrip(value)
    assert back["grads"][0][1].shape == () and isinstance(back["grads"][0], tuple)
    assert back["loss"] == 0.5 and back["name"] == "ok" and back["n"] == 3


def test_numpy_arrays_stay_numpy():
    back = roundtrip(np.arange(4, dtype=np.int32))
    assert isinstance(back, np.ndarray) and back.dtype == np.int32 and back.tolist() == [0, 1, 2, 3]


def test_a_lying_tensor_subclass_arrives_as_a_plain_tensor():
    class Liar(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return True

    liar = torch.zeros(3).as_subclass(Liar)
    back = roundtrip(liar)
    assert type(back) is torch.Tensor
    assert not torch.equal(back, torch.ones(3))


def test_objects_with_behaviour_cannot_be_sent():
    with pytest.raises(TypeError):
        wire.encode(object())
    with pytest.raises(TypeError):
        wire.encode({1: "non-string key"})


def tensor_message(**overrides):
    body = {
        "dtype": "float32",
        "shape": [2],
        "device": "cpu",
        "data": base64.b64encode(np.zeros(2, np.float32).tobytes()).decode(),
    }
    return {"$tensor": {**body, **overrides}}


@pytest.mark.parametrize(
    "bad",
    [
        tensor_message(dtype="object"),
        tensor_message(dtype=["float32"]),  # unhashable: escaped as a TypeError until mypy saw it
        tensor_message(shape=[3]),
        tensor_message(shape=[-2]),
        tensor_message(device="cuda:99"),
        tensor_message(data="***"),
        {"$pickle": "gASV..."},
        {"$tensor": {}, "extra": 1},
        {"$handle": 1},
    ],
)
def test_malformed_values_are_refused(bad):
    with pytest.raises(wire.WireError):
        wire.decode(bad)


def test_frames_round_trip_and_oversized_frames_are_refused():
    import os

    read, write = os.pipe()
    wire.write_frame(write, {"ok": [1, 2]})
    assert wire.read_frame(read) == {"ok": [1, 2]}
    os.write(write, (10**9).to_bytes(4, "big"))
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.read_frame(read, max_bytes=1024)
    os.close(write)
    with pytest.raises(wire.WireClosed):
        wire.read_frame(read)
    os.close(read)


def test_a_frame_that_is_not_a_json_object_is_a_protocol_error():
    with pytest.raises(wire.WireError):
        wire.unpack(b"[1, 2]")
    with pytest.raises(wire.WireError):
        wire.unpack(b"\xff\xfe")


def test_a_decoded_tensor_is_not_a_view():
    back = roundtrip(torch.ones(2, 3))
    assert back._base is None
    back.detach_()  # raises "Can't detach views in-place" on a view


def test_a_reply_of_too_many_values_is_refused_before_it_is_parsed(monkeypatch):
    body = b'{"ok":[' + b"[]," * wire.MAX_REPLY_VALUES + b"[]]}"  # 300 kB: far below the byte cap
    monkeypatch.setattr(wire.json, "loads", lambda *args: pytest.fail("parsed"))
    with pytest.raises(wire.WireError, match="values"):
        wire.unpack(body, wire.MAX_REPLY_VALUES)


def test_the_worker_refuses_to_send_what_the_trusted_side_would_refuse():
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.pack({"ok": "x" * wire.MAX_REPLY_BYTES}, wire.MAX_REPLY_BYTES)
    with pytest.raises(wire.WireError, match="values"):
        wire.pack({"ok": [0] * (wire.MAX_REPLY_VALUES + 1)}, wire.MAX_REPLY_BYTES, wire.MAX_REPLY_VALUES)
    assert wire.unpack(wire.pack({"ok": [0] * 1000}, wire.MAX_REPLY_BYTES, wire.MAX_REPLY_VALUES)[4:])


def test_reading_a_reply_is_part_of_the_deadline(monkeypatch):
    """A reply that arrives in time but is still being parsed when the deadline passes is late."""
    import os
    import time

    read, write = os.pipe()
    wire.write_frame(write, {"ok": 1})
    slow = wire.unpack
    monkeypatch.setattr(wire, "unpack", lambda *args: (time.sleep(0.3), slow(*args))[1])
    with pytest.raises(wire.WireTimeout):
        wire.read_reply(read, time.monotonic() + 0.1)
    os.close(read), os.close(write)
