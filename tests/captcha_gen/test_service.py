"""The CAPTCHA service on a real uvicorn server on 127.0.0.1."""
from __future__ import annotations

import base64
import io
import time

import httpx
import numpy as np
import pytest
from PIL import Image

from captcha_gen.service import RateLimiter, adversarial_source, clean_source, create_app


def _known_source():
    """Plain medium CAPTCHAs whose answers the test can look up by image bytes."""
    source = clean_source("medium")
    answers: dict[bytes, str] = {}

    def make() -> tuple[str, bytes]:
        text, png = source()
        answers[png] = text
        return text, png

    return make, answers


def _challenge(client: httpx.Client, answers: dict[bytes, str]) -> tuple[str, str]:
    r = client.get("/challenge")
    assert r.status_code == 200, r.text
    body = r.json()
    png = base64.b64decode(body["image"])
    image = np.asarray(Image.open(io.BytesIO(png)))
    assert image.shape == (32, 100)
    return body["id"], answers[png]


def test_verify_case_insensitive_and_single_use(serve) -> None:
    source, answers = _known_source()
    with serve(create_app(source, pool_size=4)) as url, httpx.Client(base_url=url) as client:
        cid, answer = _challenge(client, answers)
        assert client.post("/verify", json={"id": cid, "answer": answer.lower()}).json() == {"ok": True}
        replay = client.post("/verify", json={"id": cid, "answer": answer})
        assert replay.status_code == 404  # no replay
        cid, answer = _challenge(client, answers)
        assert client.post("/verify", json={"id": cid, "answer": answer[::-1] + "X"}).json() == {"ok": False}
        # a wrong answer burns the challenge too
        assert client.post("/verify", json={"id": cid, "answer": answer}).status_code == 404


def test_answers_stored_only_hashed(serve) -> None:
    source, answers = _known_source()
    app = create_app(source, pool_size=2)
    with serve(app) as url, httpx.Client(base_url=url) as client:
        cid, answer = _challenge(client, answers)
        state = repr([cell.cell_contents for route in app.routes if hasattr(route, "endpoint")
                      for cell in (route.endpoint.__closure__ or ()) if isinstance(cell.cell_contents, dict)])
        assert cid in state and answer not in state


def test_expired_rejected(serve) -> None:
    source, answers = _known_source()
    with serve(create_app(source, ttl=0.3, pool_size=2)) as url, httpx.Client(base_url=url) as client:
        cid, answer = _challenge(client, answers)
        time.sleep(0.5)
        assert client.post("/verify", json={"id": cid, "answer": answer}).status_code == 410


def test_brute_force_throttled(serve) -> None:
    source, answers = _known_source()
    with serve(create_app(source, rate=10, window=60, pool_size=2)) as url, httpx.Client(base_url=url) as client:
        cid, _ = _challenge(client, answers)
        codes = [client.post("/verify", json={"id": f"{cid}{i}", "answer": "ABCD"}).status_code for i in range(20)]
        assert codes[:9] == [404] * 9 and set(codes[9:]) == {429}


@pytest.mark.parametrize("request_kwargs", [
    {"content": b"not json", "headers": {"content-type": "application/json"}},
    {"json": {"id": "x"}},
    {"json": {"id": "x", "answer": ""}},
    {"json": {"id": "x" * 500, "answer": "ABCD"}},
    {"json": {"id": 5, "answer": ["A"]}},
])
def test_malformed_requests_are_4xx(serve, request_kwargs) -> None:
    source, _ = _known_source()
    with serve(create_app(source, pool_size=1)) as url, httpx.Client(base_url=url) as client:
        r = client.post("/verify", **request_kwargs)
        assert 400 <= r.status_code < 500
        assert client.get("/verify").status_code == 405


def test_bounded_load(serve) -> None:
    """40 challenge+verify rounds from 4 threads on a filled pool: no errors; p50/p99 printed and bounded."""
    from concurrent.futures import ThreadPoolExecutor

    source, answers = _known_source()
    app = create_app(source, rate=10_000, pool_size=40)
    deadline = time.monotonic() + 20
    while len(app.state.pool) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    with serve(app) as url:
        def round_trip(_: int) -> tuple[float, bool]:
            with httpx.Client(base_url=url) as client:
                start = time.perf_counter()
                cid, answer = _challenge(client, answers)
                ok = client.post("/verify", json={"id": cid, "answer": answer}).json()["ok"]
                return time.perf_counter() - start, ok

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(round_trip, range(40)))
    latencies = sorted(t for t, _ in results)
    p50, p99 = latencies[19], latencies[-1]
    print(f"load: 40 rounds, p50 {1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms")
    assert all(ok for _, ok in results)
    assert p99 < 5.0


def test_rate_limiter_window() -> None:
    limiter = RateLimiter(rate=2, window=0.2)
    assert [limiter.allow("a"), limiter.allow("a"), limiter.allow("a"), limiter.allow("b")] == [True, True, False, True]
    time.sleep(0.25)
    assert limiter.allow("a")


def test_bad_settings_raise() -> None:
    with pytest.raises(ValueError):
        create_app(clean_source(), ttl=0)


def test_adversarial_source_serves_valid_challenges() -> None:
    from captcha_gen.render import validate_text

    source = adversarial_source("medium", batch=2, steps=2)
    for _ in range(2):
        answer, png = source()
        assert validate_text(answer) == answer
        assert np.asarray(Image.open(io.BytesIO(png))).shape == (32, 100)
