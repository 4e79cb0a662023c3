"""Streaming access to ONNX initializers, inline or in external data files (onnx 1.12 API).

A 7B decoder in float32 is ~27 GB of external data; the quantiser loads the graph without its
data (onnx.load(..., load_external_data=False)) and reads one tensor at a time through a
memory map, and writes the output tensors one at a time into a single new data file.
"""
from __future__ import annotations

import os

import numpy as np
from onnx import TensorProto, mapping, numpy_helper

FLOAT_TYPES = {TensorProto.FLOAT: np.float32, TensorProto.FLOAT16: np.float16, TensorProto.DOUBLE: np.float64}
_NP_OF = {TensorProto.FLOAT: np.float32, TensorProto.FLOAT16: np.float16, TensorProto.DOUBLE: np.float64,
          TensorProto.INT64: np.int64, TensorProto.INT32: np.int32, TensorProto.UINT8: np.uint8,
          TensorProto.INT8: np.int8, TensorProto.BOOL: np.bool_}
# Tensors this small stay inside the .onnx even in external mode (shape constants and the like),
# the threshold onnx.save uses by default.
INLINE_MAX_BYTES = 1024
# Offsets in the data file are aligned so that a runtime can map tensors without copies.
ALIGN = 64


def is_external(t: TensorProto) -> bool:
    return t.HasField('data_location') and t.data_location == TensorProto.EXTERNAL


def external_info(t: TensorProto) -> dict:
    return {e.key: e.value for e in t.external_data}


def external_files(tensors, base_dir: str) -> set[str]:
    """Absolute paths of the data files a graph's initializers live in."""
    return {os.path.normpath(os.path.join(base_dir, external_info(t)['location'])) for t in tensors if is_external(t)}


def tensor_nbytes(t: TensorProto) -> int:
    if is_external(t):
        info = external_info(t)
        if 'length' in info:
            return int(info['length'])
    count = int(np.prod(t.dims)) if len(t.dims) else 1
    return count * np.dtype(_NP_OF.get(t.data_type, np.uint8)).itemsize


def read_array(t: TensorProto, base_dir: str) -> np.ndarray:
    """The tensor's values; external data comes as a read-only memory map (nothing is loaded yet)."""
    if not is_external(t):
        return numpy_helper.to_array(t)
    info = external_info(t)
    dtype = _NP_OF.get(t.data_type)
    if dtype is None:
        raise ValueError(f'{t.name}: unsupported external tensor type {t.data_type}')
    path = os.path.join(base_dir, info['location'])
    shape = tuple(t.dims)
    count = int(np.prod(shape)) if shape else 1
    return np.memmap(path, dtype=np.dtype(dtype).newbyteorder('<'), mode='r', offset=int(info.get('offset', 0)), shape=(count,)).reshape(shape)


class TensorSink:
    """Writes the output initializers: inline in the proto, or appended to one external data
    file (`location`, relative to the .onnx) with data_location = EXTERNAL."""

    def __init__(self, data_path: str | None):
        self.data_path = data_path
        self.location = os.path.basename(data_path) if data_path else None
        # Written under a temporary name and renamed by commit(): an interrupted run never leaves
        # a half-written data file next to an older .onnx that points into it.
        self._tmp = f'{data_path}.tmp-{os.getpid()}' if data_path else None
        self._f = open(self._tmp, 'wb') if data_path else None
        self.offset = 0

    @property
    def external(self) -> bool:
        return self._f is not None

    def _reserve(self, nbytes: int) -> int:
        pad = (-self.offset) % ALIGN
        if pad:
            self._f.write(b'\0' * pad)
            self.offset += pad
        start = self.offset
        self.offset += nbytes
        return start

    def _mark_external(self, t: TensorProto, start: int, nbytes: int) -> None:
        t.data_location = TensorProto.EXTERNAL
        del t.external_data[:]
        for k, v in (('location', self.location), ('offset', str(start)), ('length', str(nbytes))):
            e = t.external_data.add()
            e.key, e.value = k, v

    def new(self, name: str, arr: np.ndarray) -> TensorProto:
        """A tensor from a numpy array (little-endian hosts, as ONNX raw_data)."""
        arr = np.ascontiguousarray(arr)
        if not self.external or arr.nbytes < INLINE_MAX_BYTES:
            return numpy_helper.from_array(arr, name)
        t = TensorProto(name=name, dims=list(arr.shape), data_type=mapping.NP_TYPE_TO_TENSOR_TYPE[arr.dtype])
        start = self._reserve(arr.nbytes)
        self._f.write(arr.tobytes())
        self._mark_external(t, start, arr.nbytes)
        return t

    def keep(self, t: TensorProto, base_dir: str) -> TensorProto:
        """An unchanged initializer, re-homed: external bytes are copied chunk-wise (never whole)."""
        if not self.external:
            if is_external(t):
                return numpy_helper.from_array(np.array(read_array(t, base_dir)), t.name)
            return t
        if not is_external(t):
            if tensor_nbytes(t) < INLINE_MAX_BYTES:
                return t
            return self.new(t.name, numpy_helper.to_array(t))
        info = external_info(t)
        n = tensor_nbytes(t)
        start = self._reserve(n)
        with open(os.path.join(base_dir, info['location']), 'rb') as src:
            src.seek(int(info.get('offset', 0)))
            left = n
            while left > 0:
                chunk = src.read(min(left, 64 << 20))
                if not chunk:
                    raise ValueError(f'{t.name}: external data file ends early')
                self._f.write(chunk)
                left -= len(chunk)
        out = TensorProto()
        out.CopyFrom(t)
        self._mark_external(out, start, n)
        return out

    def commit(self) -> None:
        if self._f:
            self._f.close()
            os.replace(self._tmp, self.data_path)
            self._f = None

    def close(self) -> None:
        """After commit(), nothing; otherwise (an error) the partial data file is removed."""
        if self._f:
            self._f.close()
            self._f = None
            os.remove(self._tmp)


def atomic_write(path: str, data: bytes) -> None:
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)
