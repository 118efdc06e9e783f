"""Wire format: exact round trips, the documented sizes, and strict rejection of malformed messages."""
import zlib

import numpy as np
import pytest

from edge_probe.wire import HEADER, WireFormatError, decode, encode

EPS = 8 / 255


def _sign_map(rng, n=1):
    return (np.where(rng.random((n, 3, 112, 112)) < 0.5, -1, 1) * EPS).astype(np.float32)


def test_sign_round_trip_is_exact_and_4728_bytes_per_face():
    rng = np.random.default_rng(0)
    g = _sign_map(rng)
    data = encode(g, method="fgsm", eps=EPS)
    assert len(data) == HEADER.size + 112 * 112 * 3 // 8 == 4728
    msg = decode(data, kind="signal")
    assert (msg.kind, msg.method, msg.geometry) == ("signal", "fgsm", None)
    np.testing.assert_array_equal(msg.values, g)


@pytest.mark.parametrize("encoding", ["int8", "int8-deflate"])
def test_int8_round_trip_within_half_a_level(encoding):
    rng = np.random.default_rng(1)
    g = (rng.integers(-10, 11, (2, 3, 112, 112)) * EPS / 10).astype(np.float32)
    geometry = rng.normal(size=(2, 2, 3)).astype(np.float32)
    data = encode(g, kind="filter", method="none", eps=EPS, encoding=encoding, geometry=geometry)
    msg = decode(data, kind="filter")
    assert np.abs(msg.values - g).max() <= EPS / 254 + 1e-7
    assert np.abs(msg.values).max() <= EPS + 1e-7
    np.testing.assert_array_equal(msg.geometry, geometry)
    if encoding == "int8-deflate":
        assert len(data) < 0.7 * (HEADER.size + 48 + g.size)


def test_encode_rejects_bad_values():
    g = np.zeros((1, 3, 112, 112), np.float32)
    with pytest.raises(ValueError, match="exceed eps"):
        encode(g + 2 * EPS, eps=EPS)
    with pytest.raises(ValueError, match="finite"):
        encode(g * np.nan, eps=EPS)
    with pytest.raises(ValueError, match="eps"):
        encode(g, eps=0.0)
    with pytest.raises(ValueError, match="values must be"):
        encode(g[0], eps=EPS)
    with pytest.raises(ValueError, match="method"):
        encode(g, eps=EPS, method="pgd-99")


def test_every_truncation_and_trailing_byte_is_rejected():
    rng = np.random.default_rng(2)
    for data in (encode(_sign_map(rng), method="fgsm", eps=EPS),
                 encode(_sign_map(rng) / 2, method="ifgsm", eps=EPS, geometry=np.eye(2, 3)[None])):
        for cut in range(0, len(data), 97):
            with pytest.raises(WireFormatError):
                decode(data[:cut])
        with pytest.raises(WireFormatError, match="trailing"):
            decode(data + b"\0")


@pytest.mark.parametrize("offset, value, reason", [
    (0, b"XPFW", "magic"), (4, b"\x02", "version"), (5, b"\x07", "kind"), (6, b"\x09", "method"),
    (7, b"\x05", "encoding"), (12, b"\x00\x00", "face count"), (19, b"\x02", "geometry flag"),
])
def test_bad_header_fields_name_the_problem(offset, value, reason):
    data = bytearray(encode(_sign_map(np.random.default_rng(3)), method="fgsm", eps=EPS))
    data[offset:offset + len(value)] = value
    with pytest.raises(WireFormatError, match=reason):
        decode(bytes(data))


def test_wrong_kind_nan_eps_and_corrupt_deflate():
    g = _sign_map(np.random.default_rng(4)) / 3
    data = encode(g, method="ifgsm", eps=EPS)
    with pytest.raises(WireFormatError, match="expected a filter"):
        decode(data, kind="filter")
    bad_eps = bytearray(data)
    bad_eps[8:12] = np.float32(np.nan).tobytes()
    with pytest.raises(WireFormatError, match="eps"):
        decode(bytes(bad_eps))
    levels = np.full(g.size, -128, np.int8).tobytes()
    forged = bytearray(data[:HEADER.size]) + zlib.compress(levels)
    forged[20:24] = np.uint32(len(forged) - HEADER.size).tobytes()
    with pytest.raises(WireFormatError, match="-128"):
        decode(bytes(forged))
    body = bytearray(data)
    body[HEADER.size + 5] ^= 0xFF
    with pytest.raises(WireFormatError):
        decode(bytes(body))
    with pytest.raises(WireFormatError, match="bytes"):
        decode("not bytes")  # type: ignore[arg-type]


def test_random_corruption_never_escapes_as_another_error():
    rng = np.random.default_rng(5)
    messages = [encode(_sign_map(rng), method="fgsm", eps=EPS), encode(_sign_map(rng) / 2, method="mifgsm", eps=EPS)]
    for trial in range(300):
        data = bytearray(messages[trial % 2])
        for pos in rng.integers(0, len(data), rng.integers(1, 4)):
            data[pos] = rng.integers(0, 256)
        try:
            msg = decode(bytes(data))
        except WireFormatError:
            continue
        assert np.isfinite(msg.values).all() and np.abs(msg.values).max() <= msg.eps * (1 + 1e-6)
