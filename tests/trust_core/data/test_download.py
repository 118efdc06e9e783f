"""Download code against a real HTTP server on loopback serving local files (never the internet)."""
from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from trust_core.data import data_root
from trust_core.data.download import SOURCES, DownloadError, Source, download, fetch
from trust_core.data.mnist import load_mnist


@pytest.fixture()
def mirror(tmp_path):
    """A loopback HTTP server over a folder holding the real MNIST files."""
    served = tmp_path / "mirror"
    served.mkdir()
    for src in (data_root() / "mnist").glob("*.gz"):
        shutil.copy(src, served / src.name)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", served
    server.shutdown()


def test_download_mnist_from_a_mirror_then_load_it(mirror, tmp_path, monkeypatch):
    url, _ = mirror
    target = download("mnist", root=tmp_path / "data", base_url=url)
    assert sorted(p.name for p in target.iterdir()) == sorted(s.filename for s in SOURCES["mnist"])
    monkeypatch.setenv("APF_DATA", str(tmp_path / "data"))
    load_mnist.cache_clear()
    try:
        assert load_mnist("test")[0].shape == (10000, 28, 28)
    finally:
        load_mnist.cache_clear()


def test_checksum_mismatch_is_refused_and_leaves_nothing(mirror, tmp_path):
    url, served = mirror
    (served / "bad.gz").write_bytes(b"tampered")
    with pytest.raises(DownloadError, match="does not match"):
        fetch(Source("bad.gz", url, md5=hashlib.md5(b"original").hexdigest()), tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_dead_server_gives_a_clear_error(tmp_path):
    with pytest.raises(DownloadError, match="could not download"):
        fetch(Source("x.gz", "http://127.0.0.1:9/"), tmp_path, timeout=2)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="no download source"):
        download("imagenet", root=Path("/nonexistent"))
