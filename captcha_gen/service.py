"""The CAPTCHA service for website owners (FastAPI).

``GET /challenge`` -> ``{"id", "image"}`` (PNG, base64) and ``POST /verify {"id", "answer"}`` -> ``{"ok"}``.
Answers are kept only as HMAC-SHA256 digests under a per-process secret, expire after ``ttl`` seconds and are
deleted on the first verification (no replay); comparison is constant-time (``hmac.compare_digest``) and
case-insensitive; each client (IP) gets ``rate`` requests per ``window`` seconds (429 beyond). Challenges come
from a pool filled in a background thread with fresh, secret seeds, since adversarial generation is slower
than the request rate.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

#: a challenge source: () -> (answer, PNG bytes)
Source = Callable[[], tuple[str, bytes]]


class VerifyRequest(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    answer: str = Field(min_length=1, max_length=16)


@dataclass
class _Pending:
    digest: bytes
    expires: float


class ChallengePool:
    """Up to ``size`` ready challenges, refilled by a daemon thread from ``source``."""

    def __init__(self, source: Source, *, size: int = 64) -> None:
        if size < 1:
            raise ValueError(f"pool size must be positive, got {size}")
        self.source, self.size = source, size
        self._items: deque[tuple[str, bytes]] = deque()
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, name="captcha-pool", daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        while not self._stop.is_set():
            with self._ready:
                while len(self._items) >= self.size and not self._stop.is_set():
                    self._ready.wait(0.5)
            if self._stop.is_set():
                return
            item = self.source()
            with self._ready:
                self._items.append(item)
                self._ready.notify_all()

    def take(self, timeout: float = 30.0) -> tuple[str, bytes]:
        """The next challenge; waits up to ``timeout`` seconds when the pool is empty."""
        with self._ready:
            if not self._ready.wait_for(lambda: self._items, timeout):
                raise TimeoutError("no challenge ready")
            item = self._items.popleft()
            self._ready.notify_all()
            return item

    def __len__(self) -> int:
        return len(self._items)

    def close(self) -> None:
        self._stop.set()
        with self._ready:
            self._ready.notify_all()


class RateLimiter:
    """Sliding window: at most ``rate`` events per ``window`` seconds per key."""

    def __init__(self, *, rate: int, window: float) -> None:
        self.rate, self.window = rate, window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.rate:
                return False
            events.append(now)
            return True


def create_app(source: Source, *, ttl: float = 120.0, rate: int = 30, window: float = 60.0, pool_size: int = 64,
               secret: bytes | None = None) -> FastAPI:
    """The service app drawing challenges from ``source`` (see :func:`adversarial_source`)."""
    if ttl <= 0 or rate < 1 or window <= 0:
        raise ValueError(f"ttl and window must be positive and rate >= 1, got ttl={ttl}, rate={rate}, window={window}")
    key = secret or secrets.token_bytes(32)
    pending: dict[str, _Pending] = {}
    lock = threading.Lock()
    limiter = RateLimiter(rate=rate, window=window)
    pool = ChallengePool(source, size=pool_size)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pool.close()

    app = FastAPI(title="APF CAPTCHA service", lifespan=lifespan)
    app.state.pool = pool

    def digest(challenge_id: str, answer: str) -> bytes:
        return hmac.new(key, f"{challenge_id}:{answer.strip().upper()}".encode(), hashlib.sha256).digest()

    def throttle(request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        if not limiter.allow(client):
            raise HTTPException(status_code=429, detail="too many requests")

    @app.get("/challenge")
    def challenge(request: Request) -> dict[str, str]:
        throttle(request)
        try:
            answer, png = pool.take()
        except TimeoutError:
            raise HTTPException(status_code=503, detail="no challenge ready, retry later") from None
        challenge_id = secrets.token_urlsafe(18)
        now = time.monotonic()
        with lock:
            for stale in [k for k, p in pending.items() if p.expires < now]:
                del pending[stale]
            pending[challenge_id] = _Pending(digest(challenge_id, answer), now + ttl)
        return {"id": challenge_id, "image": base64.b64encode(png).decode("ascii"), "format": "png"}

    @app.post("/verify")
    def verify(body: VerifyRequest, request: Request) -> dict[str, bool | str]:
        throttle(request)
        with lock:
            entry = pending.pop(body.id, None)  # single use: gone after the first attempt
        if entry is None:
            raise HTTPException(status_code=404, detail="unknown or already used challenge")
        if entry.expires < time.monotonic():
            raise HTTPException(status_code=410, detail="challenge expired")
        return {"ok": hmac.compare_digest(entry.digest, digest(body.id, body.answer))}

    return app


def clean_source(level_name: str = "medium") -> Source:
    """Plain CAPTCHAs with fresh secret seeds."""
    from captcha_gen.render import generate

    def make() -> tuple[str, bytes]:
        captcha = generate(level_name, secrets.randbelow(2**31))
        return captcha.text, captcha.png()

    return make


def adversarial_source(level_name: str = "medium", *, batch: int = 16, **attack: object) -> Source:
    """Adversarial CAPTCHAs against the shipped ensemble, made ``batch`` at a time with fresh secret seeds."""
    import io

    import torch
    from PIL import Image

    from captcha_gen.adversarial import make_adversarial
    from captcha_gen.breakers import ENSEMBLE, load_breaker
    from captcha_gen.render import generate
    from captcha_gen.train import images_tensor

    breakers = [load_breaker(name) for name in ENSEMBLE]
    ready: deque[tuple[str, bytes]] = deque()

    def make() -> tuple[str, bytes]:
        if not ready:
            import numpy as np

            captchas = [generate(level_name, secrets.randbelow(2**31)) for _ in range(batch)]
            clean = images_tensor(np.stack([c.image for c in captchas]))
            adv = make_adversarial(clean, [c.text for c in captchas], breakers, seed=secrets.randbelow(2**31), **attack)
            for c, image in zip(captchas, adv):
                buffer = io.BytesIO()
                Image.fromarray((image[0] * 255).round().to(torch.uint8).numpy(), mode="L").save(buffer, format="PNG")
                ready.append((c.text, buffer.getvalue()))
        return ready.popleft()

    return make
