"""A minimal reader of frozen TensorFlow ``GraphDef`` files, without TensorFlow.

Decodes the protobuf wire format directly (GraphDef.node = 1; NodeDef name = 1, op = 2, input = 3,
attr = 5; AttrValue f = 4, tensor = 8; TensorProto dtype = 1, tensor_shape = 2, tensor_content = 4,
float_val = 5, int_val = 7), which is all a converter of frozen float32 graphs needs.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_DTYPES = {1: np.float32, 3: np.int32, 9: np.int64}


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _fields(buf: memoryview) -> Iterator[tuple[int, int, object]]:
    """Yield ``(field number, wire type, value)`` of one message."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _tensor(buf: memoryview) -> np.ndarray:
    dtype, shape, content, values = 1, [], None, []
    for number, wire, value in _fields(buf):
        if number == 1:
            dtype = value
        elif number == 2:
            for dim_number, _, dim in _fields(value):
                if dim_number == 2:
                    shape.append(next(v for n, _, v in _fields(dim) if n == 1) if len(dim) else 0)
        elif number == 4:
            content = bytes(value)
        elif number == 5:  # float_val: packed (wire 2) or single (wire 5)
            values.extend(np.frombuffer(bytes(value), "<f4").tolist())
        elif number == 7:  # int_val, packed varints or single
            if wire == 0:
                values.append(value)
            else:
                pos, data = 0, value
                while pos < len(data):
                    item, pos = _varint(data, pos)
                    values.append(item)
    if dtype not in _DTYPES:
        raise ValueError(f"unsupported tensor dtype {dtype}")
    np_dtype = _DTYPES[dtype]
    count = int(np.prod(shape)) if shape else 1
    if content is not None:
        array = np.frombuffer(content, dtype=np.dtype(np_dtype).newbyteorder("<")).astype(np_dtype)
    else:
        array = np.asarray(values, dtype=np_dtype)
        if array.size == 1 and count > 1:  # TF repeats a single value
            array = np.full(count, array[0], dtype=np_dtype)
    return array.reshape(shape)


@dataclass
class Node:
    """One node of a graph: its op, inputs, float attributes and (for ``Const``) its value."""

    name: str
    op: str
    inputs: list[str] = field(default_factory=list)
    floats: dict[str, float] = field(default_factory=dict)
    value: np.ndarray | None = None


def read_graph(path: Path) -> dict[str, Node]:
    """The nodes of the frozen graph at ``path``, in file order, keyed by name."""
    data = memoryview(Path(path).read_bytes())
    nodes: dict[str, Node] = {}
    for number, _, raw in _fields(data):
        if number != 1:
            continue
        node = Node(name="", op="")
        for key, _, value in _fields(raw):
            if key == 1:
                node.name = bytes(value).decode()
            elif key == 2:
                node.op = bytes(value).decode()
            elif key == 3:
                node.inputs.append(bytes(value).decode())
            elif key == 5:
                entry = dict((n, v) for n, _, v in _fields(value))
                attr_name = bytes(entry[1]).decode()
                for attr_key, _, attr_value in _fields(entry.get(2, memoryview(b""))):
                    if attr_key == 4:
                        node.floats[attr_name] = struct.unpack("<f", bytes(attr_value))[0]
                    elif attr_key == 8 and attr_name == "value":
                        node.value = _tensor(attr_value)
        nodes[node.name] = node
    if not nodes:
        raise ValueError(f"{path} holds no graph nodes")
    return nodes
