"""The wire format between the device and the cloud enhancer (numpy only: the cloud imports it too).

One message carries the perturbations of N faces, either a *signal* (device -> cloud) or a *filter*
(cloud -> device). Layout (little-endian; full description and sizes in ``edge_probe/WIRE.md``)::

    magic "APFW" | version u8 | kind u8 | method u8 | encoding u8 | eps f32 | count u16 | channels u8 |
    height u16 | width u16 | has_geometry u8 | payload_len u32 | geometry (count × 6 f32) | payload

Encodings: ``sign`` — one bit per value (``np.packbits``, set = +eps, clear = −eps; FGSM's g = eps·sign(∇));
``int8`` — round(127·v/eps) per value, ``int8-deflate`` — the same, zlib-compressed (multi-step perturbations
take few distinct levels). Geometry, optional, is each face's 2×3 affine from crop to photo coordinates — all
that pasting the filter back needs. Nothing else of the photo travels: no pixels, no embedding, no metadata.
:func:`decode` is strict and raises :class:`WireFormatError` on anything malformed.
"""
from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np

MAGIC = b"APFW"
VERSION = 1
KINDS = ("signal", "filter")
#: method codes; "none" for a filter or an unspecified method.
METHOD_CODES = ("fgsm", "ifgsm", "mifgsm", "di2fgsm", "none")
ENCODINGS = ("sign", "int8", "int8-deflate")
#: bounds that keep a message small and decoding cheap.
MAX_FACES = 64
MAX_SIDE = 512
HEADER = struct.Struct("<4sBBBBfHBHHBI")
GEOMETRY_FLOATS = 6
#: media type of a message over HTTP.
MEDIA_TYPE = "application/x-apf-wire"


class WireFormatError(ValueError):
    """A message is malformed: bad magic, version, field, size or truncation."""


@dataclass(frozen=True)
class Message:
    """A decoded message: ``values`` (N, C, H, W) float32 with |v| ≤ eps, optional ``geometry`` (N, 2, 3)."""

    kind: str
    method: str
    eps: float
    values: np.ndarray
    geometry: np.ndarray | None = None


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise WireFormatError(message)


def encode(values: np.ndarray, *, kind: str = "signal", method: str = "none", eps: float,
           encoding: str | None = None, geometry: np.ndarray | None = None) -> bytes:
    """Encode perturbations ``values`` (N, C, H, W) with |v| ≤ eps.

    ``encoding`` defaults to ``sign`` for FGSM signals and ``int8-deflate`` otherwise. Sign encoding keeps only
    each value's sign (zero maps to +eps).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if method not in METHOD_CODES:
        raise ValueError(f"method must be one of {METHOD_CODES}, got {method!r}")
    encoding = encoding or ("sign" if method == "fgsm" and kind == "signal" else "int8-deflate")
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
    if not isinstance(eps, (int, float)) or not math.isfinite(eps) or not 0 < eps <= 1:
        raise ValueError(f"eps must be a number in (0, 1], got {eps!r}")
    values = np.asarray(values)
    if values.ndim != 4 or not 1 <= values.shape[0] <= MAX_FACES or not 1 <= values.shape[1] <= 4 \
            or not (1 <= values.shape[2] <= MAX_SIDE and 1 <= values.shape[3] <= MAX_SIDE):
        raise ValueError(f"values must be (N ≤ {MAX_FACES}, C ≤ 4, H ≤ {MAX_SIDE}, W ≤ {MAX_SIDE}), got {values.shape}")
    if not np.issubdtype(values.dtype, np.floating) or not np.isfinite(values).all():
        raise ValueError("values must be finite floats")
    if np.abs(values).max() > eps * (1 + 1e-4):
        raise ValueError(f"values exceed eps={eps:.6g} (max |v| = {np.abs(values).max():.6g})")
    n = values.shape[0]
    geo = b""
    if geometry is not None:
        geometry = np.asarray(geometry, dtype=np.float32)
        if geometry.shape != (n, 2, 3) or not np.isfinite(geometry).all():
            raise ValueError(f"geometry must be finite (N={n}, 2, 3) affine matrices, got shape {geometry.shape}")
        geo = geometry.astype("<f4").tobytes()
    if encoding == "sign":
        payload = np.packbits((values >= 0).reshape(-1)).tobytes()
    else:
        levels = np.clip(np.rint(values.astype(np.float64) / eps * 127), -127, 127).astype(np.int8).tobytes()
        payload = zlib.compress(levels, 6) if encoding == "int8-deflate" else levels
    header = HEADER.pack(MAGIC, VERSION, KINDS.index(kind), METHOD_CODES.index(method), ENCODINGS.index(encoding),
                         eps, n, values.shape[1], values.shape[2], values.shape[3], int(geometry is not None), len(payload))
    return header + geo + payload


def decode(data: bytes, *, kind: str | None = None) -> Message:
    """Decode a message strictly; ``kind`` (``signal``/``filter``) when the caller expects one."""
    _check(isinstance(data, (bytes, bytearray, memoryview)), f"a message is bytes, got {type(data).__name__}")
    data = bytes(data)
    _check(len(data) >= HEADER.size, f"message truncated: {len(data)} bytes, the header alone is {HEADER.size}")
    magic, version, kind_code, method_code, enc_code, eps, n, c, h, w, has_geo, payload_len = HEADER.unpack_from(data)
    _check(magic == MAGIC, f"bad magic {magic!r}: not an APF wire message")
    _check(version == VERSION, f"unsupported wire version {version} (this build reads version {VERSION})")
    _check(kind_code < len(KINDS), f"unknown kind code {kind_code}")
    _check(method_code < len(METHOD_CODES), f"unknown method code {method_code}")
    _check(enc_code < len(ENCODINGS), f"unknown encoding code {enc_code}")
    _check(kind is None or KINDS[kind_code] == kind, f"expected a {kind} message, got a {KINDS[kind_code]}")
    _check(math.isfinite(eps) and 0 < eps <= 1, f"eps must lie in (0, 1], got {eps}")
    _check(1 <= n <= MAX_FACES, f"face count must lie in [1, {MAX_FACES}], got {n}")
    _check(1 <= c <= 4 and 1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE, f"bad shape ({c}, {h}, {w})")
    _check(has_geo in (0, 1), f"bad geometry flag {has_geo}")
    encoding, count = ENCODINGS[enc_code], n * c * h * w
    geo_len = n * GEOMETRY_FLOATS * 4 if has_geo else 0
    expected_raw = {"sign": (count + 7) // 8, "int8": count}.get(encoding)
    _check(expected_raw is None or payload_len == expected_raw,
           f"{encoding} payload must be {expected_raw} bytes for shape ({n}, {c}, {h}, {w}), header says {payload_len}")
    size = HEADER.size + geo_len + payload_len
    _check(len(data) >= size, f"message truncated: {len(data)} bytes, expected {size}")
    _check(len(data) == size, f"{len(data) - size} trailing bytes after the message")
    geometry = None
    if has_geo:
        geometry = np.frombuffer(data, "<f4", n * GEOMETRY_FLOATS, HEADER.size).astype(np.float32).reshape(n, 2, 3)
        _check(bool(np.isfinite(geometry).all()), "geometry contains NaN or inf")
    payload = data[HEADER.size + geo_len:]
    if encoding == "sign":
        bits = np.unpackbits(np.frombuffer(payload, np.uint8), count=count)
        _check(not np.unpackbits(np.frombuffer(payload, np.uint8))[count:].any(), "non-zero padding bits")
        values = np.where(bits.astype(bool), np.float32(eps), np.float32(-eps))
    else:
        if encoding == "int8-deflate":
            inflater = zlib.decompressobj()
            try:
                payload = inflater.decompress(payload, count + 1)
            except zlib.error as exc:
                raise WireFormatError(f"corrupt deflate payload: {exc}") from None
            _check(inflater.eof and not inflater.unused_data, "deflate payload is truncated or has trailing data")
            _check(len(payload) == count, f"int8 payload inflates to {len(payload)} bytes, expected {count}")
        levels = np.frombuffer(payload, np.int8)
        _check(levels.min() >= -127, "int8 level -128 is not allowed")
        values = levels.astype(np.float32) * np.float32(eps / 127)
    return Message(KINDS[kind_code], METHOD_CODES[method_code], float(eps), values.reshape(n, c, h, w), geometry)
