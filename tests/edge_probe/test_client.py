"""Client: a real loopback HTTP server (token, retries, 4xx), a closed port, and the embedded protocol."""
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from edge_probe.client import Enhancer, EnhancerRejected, EnhancerUnavailable, HttpEnhancer, request_filter
from edge_probe.wire import MEDIA_TYPE, decode, encode

EPS = 8 / 255
SIGNAL = encode(np.full((1, 3, 112, 112), EPS, np.float32), method="fgsm", eps=EPS)


def _as_filter(signal: bytes) -> bytes:
    msg = decode(signal, kind="signal")
    return encode(-msg.values / 2, kind="filter", eps=msg.eps)


class _Handler(BaseHTTPRequestHandler):
    failures_left = 0
    seen: list = []

    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.path, self.headers["Authorization"], self.headers["Content-Type"]))
        if self.headers["Authorization"] != "Bearer secret":
            self._reply(401, b"bad token")
        elif type(self).failures_left > 0:
            type(self).failures_left -= 1
            self._reply(503, b"busy")
        else:
            self._reply(200, _as_filter(body))

    def _reply(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture()
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.failures_left, _Handler.seen = 0, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_posts_wire_bytes_with_the_token_and_decodes_the_filter(server):
    msg = request_filter(SIGNAL, HttpEnhancer(server, token="secret"))
    assert msg.kind == "filter"
    np.testing.assert_allclose(msg.values, -EPS / 2, atol=EPS / 254)
    assert _Handler.seen == [("/v1/filter", "Bearer secret", MEDIA_TYPE)]


def test_retries_5xx_with_backoff_then_succeeds(server):
    _Handler.failures_left = 2
    start = time.perf_counter()
    request_filter(SIGNAL, HttpEnhancer(server, token="secret", retries=2, backoff=0.05))
    assert len(_Handler.seen) == 3 and time.perf_counter() - start >= 0.05 + 0.1


def test_bad_token_is_rejected_without_retry(server):
    with pytest.raises(EnhancerRejected, match="401"):
        HttpEnhancer(server, token="wrong", retries=3, backoff=0.01).enhance(SIGNAL)
    assert len(_Handler.seen) == 1


def test_persistent_5xx_is_unavailable(server):
    _Handler.failures_left = 10
    with pytest.raises(EnhancerUnavailable, match="HTTP 503"):
        HttpEnhancer(server, token="secret", retries=1, backoff=0.01).enhance(SIGNAL)


def test_closed_port_is_unavailable_quickly():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the socket is released
    start = time.perf_counter()
    with pytest.raises(EnhancerUnavailable, match="unavailable after 3 attempts"):
        HttpEnhancer(f"http://127.0.0.1:{port}", token="t", retries=2, backoff=0.01, timeout=2).enhance(SIGNAL)
    assert time.perf_counter() - start < 5


def test_embedded_enhancer_satisfies_the_protocol():
    class Embedded:
        def enhance(self, signal: bytes) -> bytes:
            return _as_filter(signal)

    assert isinstance(Embedded(), Enhancer)
    assert request_filter(SIGNAL, Embedded()).values.shape == (1, 3, 112, 112)
    with pytest.raises(TypeError):
        request_filter(SIGNAL, object())  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs, reason", [({"server": "127.0.0.1:80", "token": "t"}, "URL"),
                                            ({"server": "http://x", "token": ""}, "token")])
def test_bad_configuration(kwargs, reason):
    with pytest.raises(ValueError, match=reason):
        HttpEnhancer(**kwargs)
