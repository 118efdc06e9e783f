"""``apf serve`` on a real loopback server: parity with the embedded enhancer, auth, limits, batching."""
from __future__ import annotations

import concurrent.futures

import httpx
import numpy as np
import pytest

from cloud_enhancer.enhancer import MAX_EPS
from edge_probe import wire

EPS = 8 / 255
TOKEN = "test-token-123"  # the live_service fixture's token
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": wire.MEDIA_TYPE}


def signal(n: int = 1, seed: int = 0, eps: float = EPS) -> tuple[np.ndarray, bytes]:
    values = np.where(np.random.default_rng(seed).random((n, 3, 112, 112)) < 0.5, -eps, eps).astype(np.float32)
    return values, wire.encode(values, kind="signal", method="fgsm", eps=eps)


def test_probes(live_service):
    assert httpx.get(live_service.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(live_service.url + "/readyz").json() == {"ready": True}
    assert "/v1/filter" in httpx.get(live_service.url + "/openapi.json").json()["paths"]


def test_filter_matches_the_embedded_enhancer(live_service, enhancer):
    values, body = signal(n=3)
    response = httpx.post(live_service.url + "/v1/filter", content=body, headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"] == wire.MEDIA_TYPE
    message = wire.decode(response.content, kind="filter")
    expected = enhancer.filters(values, np.full(3, EPS, np.float32))
    assert message.values.shape == (3, 3, 112, 112)
    assert np.abs(message.values).max() <= EPS + 1e-6
    assert np.abs(message.values - expected).max() <= EPS / 127 + 1e-6  # int8 quantisation only
    assert np.abs(expected).mean() > EPS / 10  # a real, non-trivial filter


@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "missing bearer token"), ({"Authorization": "Bearer wrong"}, "invalid token"), ({"Authorization": f"Basic {TOKEN}"}, "missing bearer token")],
)
def test_requests_without_a_valid_token_get_401(live_service, headers, detail):
    response = httpx.post(live_service.url + "/v1/filter", content=signal()[1], headers=headers)
    assert response.status_code == 401 and response.json()["detail"] == detail


def test_bad_payloads_get_4xx_and_the_service_stays_up(live_service):
    url = live_service.url + "/v1/filter"
    assert httpx.post(url, content=b"garbage", headers=AUTH).status_code == 400
    assert httpx.post(url, content=signal()[1][:-10], headers=AUTH).status_code == 400
    assert httpx.post(url, content=b"\0" * (300 * 1024), headers=AUTH).status_code == 413
    odd = wire.encode(np.full((1, 3, 64, 64), EPS, np.float32), kind="signal", method="fgsm", eps=EPS)
    assert httpx.post(url, content=odd, headers=AUTH).status_code == 422
    too_big = signal(eps=min(1.0, 2 * MAX_EPS))[1]
    assert httpx.post(url, content=too_big, headers=AUTH).status_code == 422
    as_filter = wire.encode(signal()[0], kind="filter", eps=EPS)
    assert httpx.post(url, content=as_filter, headers=AUTH).status_code == 400
    assert httpx.get(live_service.url + "/healthz").status_code == 200


def test_concurrent_requests_are_batched_without_errors(live_service):
    bodies = [signal(seed=i)[1] for i in range(20)]
    batcher = live_service.server.config.app.state.batcher
    before = batcher.batches_run
    with httpx.Client() as client, concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda b: client.post(live_service.url + "/v1/filter", content=b, headers=AUTH).status_code, bodies))
    assert codes == [200] * 20
    assert batcher.batches_run - before < 20  # some requests shared a forward pass
