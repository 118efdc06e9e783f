"""``apf bench enhancer``: the load generator counts, bounds and fails honestly; the command writes its figures."""
from __future__ import annotations

import json

import torch
from click.testing import CliRunner

from cloud_enhancer.bench import cli, load_test, signal_bodies
from edge_probe import wire

TOKEN = "test-token-123"  # the live_service fixture's token


def test_load_test_sends_exactly_the_requests_asked(live_service):
    result = load_test(live_service.url, signal_bodies(3), token=TOKEN, clients=4, requests=10, seconds=120)
    summary = result.summary()
    assert summary["requests"] == 10 and summary["errors"] == 0
    assert 0 < summary["p50_ms"] <= summary["p99_ms"] and summary["filters_per_s"] > 0


def test_load_test_counts_refused_and_malformed_requests_as_errors(live_service):
    assert load_test(live_service.url, signal_bodies(1), token="wrong", clients=2, requests=4).errors == 4
    bad = [b"garbage", signal_bodies(1)[0]]
    assert load_test(live_service.url, bad, token=TOKEN, clients=1, requests=4).errors == 2


def test_load_test_stops_at_its_time_limit(live_service):
    result = load_test(live_service.url, signal_bodies(2), token=TOKEN, clients=2, requests=10**6, seconds=0.5)
    assert 0 < result.requests < 10**6 and result.seconds < 30


def test_bench_command_runs_both_service_configurations(tmp_path):
    out = tmp_path / "bench.json"
    args = ["--threads", "1", "--rounds", "1", "--clients", "3", "--requests", "6", "--seconds", "60", "--json", str(out)]
    threads = torch.get_num_threads()
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert figures["weights"] in {"shipped", "random"} and set(figures["embedded_filters_per_s"]) == {"1", "32"}
    assert [(run["max_batch"], run["requests"], run["errors"]) for run in figures["service"]] == [(32, 6, 0), (1, 6, 0)]
    assert figures["batching_speedup"] > 0 and "micro-batching speed-up" in result.output


def test_bodies_are_one_face_fgsm_sign_messages():
    body = signal_bodies(1)[0]
    message = wire.decode(body, kind="signal")
    assert len(body) == 4728 and message.method == "fgsm" and message.values.shape == (1, 3, 112, 112)
