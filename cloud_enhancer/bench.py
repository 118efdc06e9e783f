"""``apf bench enhancer``: filters/s of the embedded enhancer, and a bounded loopback load test of ``apf serve``
with micro-batching vs ``--max-batch 1`` in the same run."""
from __future__ import annotations

import itertools
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from edge_probe import wire

if TYPE_CHECKING:
    import httpx

    from cloud_enhancer.enhancer import Enhancer

EPS = 8 / 255
TOKEN = "apf-bench-token"


def sign_signals(count: int, *, seed: int = 0, eps: float = EPS) -> np.ndarray:
    """``count`` FGSM-like signals ±eps, float32 (count, 3, 112, 112)."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random((count, 3, 112, 112)) < 0.5, -eps, eps).astype(np.float32)


def signal_bodies(count: int, *, eps: float = EPS) -> list[bytes]:
    """``count`` one-face wire messages, FGSM with the ``sign`` encoding (4,728 bytes each)."""
    signals = sign_signals(count, eps=eps)
    return [wire.encode(s[None], kind="signal", method="fgsm", encoding="sign", eps=eps) for s in signals]


@dataclass
class LoadResult:
    """What a load test saw: per-request latency, the failures (non-200, bad filter, transport error), wall time."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def summary(self) -> dict[str, float]:
        ms = np.asarray(self.latencies) * 1e3 if self.latencies else np.full(1, np.nan)
        ok = self.requests - self.errors
        return {"requests": self.requests, "errors": self.errors, "seconds": round(self.seconds, 3),
                "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
                "filters_per_s": ok / self.seconds if self.seconds else 0.0}


def load_test(url: str, bodies: list[bytes], *, token: str, clients: int = 20, requests: int = 400,
              seconds: float = 15.0, timeout: float = 30.0) -> LoadResult:
    """``clients`` threads POST ``bodies`` round-robin to ``url``/v1/filter, each on one keep-alive connection,
    until ``requests`` were sent or ``seconds`` passed (a request in flight then still finishes)."""
    import httpx

    headers = {"Authorization": f"Bearer {token}", "Content-Type": wire.MEDIA_TYPE}
    result, lock, counter = LoadResult(), threading.Lock(), itertools.count()
    start = time.perf_counter()
    deadline = start + seconds

    def client() -> None:
        with httpx.Client(base_url=url, timeout=timeout) as session:
            while (i := next(counter)) < requests and time.perf_counter() < deadline:
                sent = time.perf_counter()
                ok = _post(session, bodies[i % len(bodies)], headers)
                with lock:
                    result.latencies.append(time.perf_counter() - sent)
                    result.errors += not ok

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - start
    return result


def _post(session: httpx.Client, body: bytes, headers: dict[str, str]) -> bool:
    """One request; True when it got a 200 with a well-formed filter message."""
    import httpx

    try:
        response = session.post("/v1/filter", content=body, headers=headers)
        return response.status_code == 200 and wire.decode(response.content, kind="filter").kind == "filter"
    except (httpx.HTTPError, wire.WireFormatError):
        return False


def bench_enhancer() -> tuple[Enhancer, str]:
    """The shipped enhancer on the CPU, else a randomly initialised APFFilter (same architecture, same cost)."""
    from cloud_enhancer.enhancer import Enhancer
    from cloud_enhancer.model import APFFilter
    from trust_core.models.registry import WeightsError

    try:
        return Enhancer.load(device="cpu"), "shipped"
    except (WeightsError, FileNotFoundError) as exc:
        click.echo(f"note: no shipped enhancer weights ({exc}); timing a randomly initialised APFFilter")
        return Enhancer(APFFilter()), "random"


def embedded_rates(enhancer: Enhancer, batches: tuple[int, ...], *, rounds: int) -> dict[int, float]:
    """Filters/s of ``Enhancer.filters`` per batch size (best of ``rounds`` interleaved calls)."""
    from trust_core.attacks.bench import best_seconds

    inputs = {b: (sign_signals(b), np.full(b, EPS, np.float32)) for b in batches}
    best = best_seconds({str(b): lambda b=b: enhancer.filters(*inputs[b]) for b in batches}, rounds=rounds)
    return {b: b / best[str(b)] for b in batches}


def warm_and_load(url: str, *, clients: int, requests: int, seconds: float) -> dict[str, float]:
    """One warm-up request per client, then the measured load test; its summary."""
    bodies = signal_bodies(64)
    load_test(url, bodies, token=TOKEN, clients=clients, requests=clients, seconds=seconds)
    return load_test(url, bodies, token=TOKEN, clients=clients, requests=requests, seconds=seconds).summary()


def service_run(weights: Path | None, *, max_batch: int, threads: int, **load: Any) -> dict[str, float]:
    """``apf serve --max-batch N`` in a child process on loopback, under load."""
    from cloud_enhancer.service_process import ServiceProcess

    with ServiceProcess(token=TOKEN, weights=weights, max_batch=max_batch, threads=threads) as service:
        return {"max_batch": max_batch, **warm_and_load(service.url, **load)}


def ray_run(weights: Path | None, *, replicas: int, threads: int, **load: Any) -> dict[str, float]:
    """The same app on a local Ray Serve, ``replicas`` sharing ``threads`` CPUs, under load."""
    import functools

    from cloud_enhancer.ray_deployment import deployment, init_local, start  # before ray: see init_local

    import ray
    from ray import serve

    from cloud_enhancer.cli import load_enhancer
    from cloud_enhancer.service_process import free_port

    init_local(num_cpus=threads)
    try:
        port = free_port()
        start(deployment(functools.partial(load_enhancer, weights), tokens=[TOKEN], replicas=replicas,
                         replica_cpus=threads / replicas), port=port)
        return {"replicas": replicas, **warm_and_load(f"http://127.0.0.1:{port}", **load)}
    finally:
        serve.shutdown()
        ray.shutdown()


@click.command(name="enhancer")
@click.option("--threads", default=2, show_default=True, help="torch threads, embedded and in the service.")
@click.option("--rounds", default=10, show_default=True, help="Embedded timing rounds (best of).")
@click.option("--clients", default=20, show_default=True, help="Concurrent HTTP clients, one face per request.")
@click.option("--requests", default=1000, show_default=True, help="Most requests per service configuration.")
@click.option("--seconds", default=15.0, show_default=True, help="Most seconds of load per service configuration.")
@click.option("--ray-replicas", default=0, show_default=True, help="Also load Ray Serve with this many replicas "
              "sharing THREADS CPUs (0: skip; needs the serve extra).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures here.")
def cli(threads: int, rounds: int, clients: int, requests: int, seconds: float, ray_replicas: int,
        json_path: Path | None) -> None:
    """Embedded filters/s at batch 1 and 32; then apf serve on 127.0.0.1 under CLIENTS concurrent clients sending
    FGSM sign-encoded signals: p50/p99 latency, filters/s, errors, with micro-batching (32) and without (1)."""
    import torch

    busy = os.getloadavg()[0]  # before our own work: how busy the machine already is
    torch.set_num_threads(threads)
    enhancer, source = bench_enhancer()
    rates = embedded_rates(enhancer, (1, 32), rounds=rounds)
    with tempfile.TemporaryDirectory(prefix="apf-bench-") as tmp:
        weights = None
        if source == "random":
            weights = Path(tmp) / "apf_filter.pt"
            torch.save(enhancer.filter.state_dict(), weights)
        load = {"threads": threads, "clients": clients, "requests": requests, "seconds": seconds}
        runs = [service_run(weights, max_batch=b, **load) for b in (32, 1)]
        ray_figures = ray_run(weights, replicas=ray_replicas, **load) if ray_replicas else None
    ratio = runs[0]["filters_per_s"] / runs[1]["filters_per_s"] if runs[1]["filters_per_s"] else float("nan")
    figures: dict[str, Any] = {"weights": source, "threads": threads, "clients": clients, "load_average": busy,
                               "embedded_filters_per_s": {str(b): r for b, r in rates.items()}, "service": runs,
                               "batching_speedup": ratio, "ray_serve": ray_figures}
    report(figures)
    if json_path is not None:
        json_path.write_text(json.dumps(figures, indent=2) + "\n")


def report(figures: dict[str, Any]) -> None:
    """Print the figures of one run as a table."""
    rates = figures["embedded_filters_per_s"]
    click.echo(f"enhancer weights: {figures['weights']}; {figures['threads']} torch threads; {figures['clients']} "
               f"clients, 1 face (4,728-byte FGSM sign signal) per request; load average {figures['load_average']:.2f} "
               f"on {os.cpu_count()} cores before the run")
    click.echo(f"embedded  batch 1: {rates['1']:.1f} filters/s   batch 32: {rates['32']:.1f} filters/s")
    click.echo(f"{'max_batch':>9} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'filters/s':>9}")
    for run in figures["service"]:
        click.echo(f"{run['max_batch']:>9} {run['requests']:>8} {run['errors']:>6} {run['p50_ms']:>8.1f} "
                   f"{run['p99_ms']:>8.1f} {run['filters_per_s']:>9.1f}")
    click.echo(f"micro-batching speed-up (max_batch 32 vs 1): {figures['batching_speedup']:.2f}x")
    if (ray := figures["ray_serve"]) is not None:
        click.echo(f"Ray Serve, {ray['replicas']} replicas: {ray['requests']} requests, {ray['errors']} errors, "
                   f"p50 {ray['p50_ms']:.1f} ms, p99 {ray['p99_ms']:.1f} ms, {ray['filters_per_s']:.1f} filters/s")
