"""The real ``apf serve`` process: 401 without a token, 4xx for bad bodies while it stays up, and nothing of a
request persisted: no file under its cwd, HOME or TMPDIR, no payload bytes in its log."""
from __future__ import annotations

import base64
import struct
import zlib

import httpx
import numpy as np
import torch

from cloud_enhancer.bench import signal_bodies
from cloud_enhancer.service_process import ServiceProcess, payload_leaked
from edge_probe import wire

TOKEN = "hardening-token-456"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": wire.MEDIA_TYPE}
MARKER = b"APFW-PAYLOAD-MARKER-0123456789abcdef"


def deflate_bomb() -> bytes:
    """A one-face int8-deflate signal whose payload inflates to 64 MiB (the shape allows 37,632 bytes)."""
    header = wire.encode(np.zeros((1, 3, 112, 112), np.float32), kind="signal", method="ifgsm", eps=8 / 255)[:20]
    bomb = zlib.compress(bytes(64 << 20), 9)
    return header + struct.pack("<I", len(bomb)) + bomb


def test_the_service_process_persists_nothing_and_logs_no_payload(tmp_path, enhancer):
    weights = tmp_path / "apf_filter.pt"
    torch.save(enhancer.filter.state_dict(), weights)
    root = tmp_path / "sandbox"
    dirs = {name: root / name for name in ("cwd", "home", "tmp", "cache")}
    for path in dirs.values():
        path.mkdir(parents=True)
    env = {"HOME": str(dirs["home"]), "TMPDIR": str(dirs["tmp"]), "APF_CACHE": str(dirs["cache"]),
           "XDG_CACHE_HOME": str(dirs["cache"])}
    good = signal_bodies(3)
    with ServiceProcess(token=TOKEN, weights=weights, threads=1, cwd=dirs["cwd"], env=env) as service, \
            httpx.Client(base_url=service.url, timeout=60) as client:
        assert [client.post("/v1/filter", content=b, headers=AUTH).status_code for b in good] == [200] * 3
        assert client.post("/v1/filter", content=good[0]).status_code == 401
        assert client.post("/v1/filter", content=good[0], headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.post("/v1/filter", content=b"APFW" + MARKER, headers=AUTH).status_code == 400
        assert client.post("/v1/filter", content=good[1][:-7], headers=AUTH).status_code == 400
        assert client.post("/v1/filter", content=MARKER * 200_000, headers=AUTH).status_code == 413
        bomb = client.post("/v1/filter", content=deflate_bomb(), headers=AUTH)
        assert bomb.status_code == 400 and "deflate" in bomb.json()["detail"]
        assert client.get("/healthz").status_code == 200
        assert client.post("/v1/filter", content=good[2], headers=AUTH).status_code == 200
    assert "Uvicorn running on" in service.log  # the log was captured, so its checks below mean something
    assert [p for p in root.rglob("*") if not p.is_dir()] == []
    assert not payload_leaked(good, service.log) and MARKER.decode() not in service.log


def test_payload_leaked_finds_a_chunk_in_any_form():
    body = signal_bodies(1)[0]
    assert not payload_leaked([body], "POST /v1/filter 200")
    forms = (body[20:80].hex(), repr(body[20:80]), base64.b64encode(body).decode())
    assert all(payload_leaked([body], f"log: {form} ...") for form in forms)
