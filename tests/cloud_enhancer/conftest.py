"""A real enhancer service on loopback (uvicorn in a thread) over a fixed, seeded filter network."""
from __future__ import annotations

import socket
import threading
import time

import pytest
import torch
import uvicorn

from cloud_enhancer.app import create_app
from cloud_enhancer.enhancer import Enhancer
from cloud_enhancer.model import APFFilter

TOKEN = "test-token-123"


@pytest.fixture(scope="session")
def enhancer() -> Enhancer:
    torch.manual_seed(0)
    filt = APFFilter()
    with torch.no_grad():
        filt.universal.raw.normal_(0, 1)
        filt.universal.raw_scale.fill_(0.5)
    return Enhancer(filt)


class LiveServer:
    def __init__(self, app, **config) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, **config))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="module")
def live_service(enhancer):
    with LiveServer(create_app(enhancer, tokens=[TOKEN], max_body=256 * 1024, max_wait=0.02)) as server:
        yield server
