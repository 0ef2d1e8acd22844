"""Minimal safetensors writer/reader (no dependency on the safetensors package).

File layout:
    u64 little-endian N                      -- length of the JSON header
    N bytes of UTF-8 JSON, padded with spaces to a multiple of 8
    raw little-endian row-major tensor data, contiguous, in header order

Only the dtypes needed by libigq tooling are supported: F32, F16, BF16
(plus F64/I64/I32/U8 for completeness of the reader).
"""

import json
import struct

import torch

_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "U8": torch.uint8,
}
_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1}


def _tensor_bytes(t, code):
    t = t.detach().to("cpu").to(_DTYPES[code]).contiguous()
    if code == "BF16":
        # numpy has no bfloat16: reinterpret the 16-bit patterns as int16.
        arr = t.view(torch.int16).numpy()
    else:
        arr = t.numpy()
    arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return arr.tobytes(order="C")


def write(path, tensors, metadata=None, dtype="F32"):
    """Write ``tensors`` (dict name -> torch.Tensor) to ``path``.

    ``dtype`` is either a single code ("F32", "F16", "BF16") applied to every
    tensor, or a dict name -> code (missing names default to F32).
    ``metadata`` is a dict of str -> str stored under ``__metadata__``.
    Tensors are stored in the iteration order of ``tensors``.
    """
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        code = dtype.get(name, "F32") if isinstance(dtype, dict) else dtype
        if code not in _DTYPES:
            raise ValueError("unsupported dtype %r" % code)
        blob = _tensor_bytes(t, code)
        expect = _SIZES[code]
        for s in t.shape:
            expect *= int(s)
        assert len(blob) == expect, (name, len(blob), expect)
        header[name] = {
            "dtype": code,
            "shape": [int(s) for s in t.shape],
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("metadata keys and values must be str")
        header["__metadata__"] = dict(metadata)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    pad = (-len(hjson)) % 8
    hjson += b" " * pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def read(path):
    """Return (dict name -> torch.Tensor in stored dtype, metadata dict, dtypes dict).

    Validates the layout rules (contiguous, no gaps, first offset 0,
    header padded to 8, file size exact).
    """
    import numpy as np

    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    if n % 8 != 0:
        raise ValueError("header length %d not a multiple of 8" % n)
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    pos = 0
    out = {}
    dtypes = {}
    for name, e in entries:
        b, end = e["data_offsets"]
        if b != pos:
            raise ValueError("gap/overlap before %s" % name)
        code = e["dtype"]
        count = 1
        for s in e["shape"]:
            count *= s
        if end - b != count * _SIZES[code]:
            raise ValueError("size mismatch for %s" % name)
        chunk = data[b:end]
        if code == "BF16":
            arr = np.frombuffer(chunk, dtype="<i2").copy()
            t = torch.from_numpy(arr).view(torch.bfloat16)
        else:
            npdt = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8",
                    "I32": "<i4", "U8": "u1"}[code]
            t = torch.from_numpy(np.frombuffer(chunk, dtype=npdt).copy())
        out[name] = t.reshape(e["shape"])
        dtypes[name] = code
        pos = end
    if pos != len(data):
        raise ValueError("trailing bytes after tensor data")
    # restore header order
    ordered = {k: out[k] for k in header.keys()}
    return ordered, meta, dtypes
