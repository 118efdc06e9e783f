"""The weights registry: checksums, unknown names, derived-file caching."""
from __future__ import annotations

import json

import pytest
import torch

from trust_core.models import registry
from trust_core.models.mnist import load_mnist_cnn


def test_shipped_mnist_cnn_is_verified_and_loads():
    entry = registry.entries()["mnist_cnn"]
    assert entry.command.startswith("apf train mnist") and entry.metrics["test_accuracy"] >= 0.985
    assert registry.weights_path("mnist_cnn") == entry.path
    assert not load_mnist_cnn().training


def test_unknown_weights_name():
    with pytest.raises(registry.WeightsError, match="unknown weights 'nope'"):
        registry.weights_path("nope")


def test_altered_file_fails_its_checksum(tmp_path, monkeypatch):
    weights = tmp_path / "pkg" / "weights"
    weights.mkdir(parents=True)
    (weights / "m.pt").write_bytes(b"original")
    monkeypatch.setattr(registry, "manifest_path", lambda package: weights / "manifest.json")
    entry = registry.record("pkg", "m", weights / "m.pt", command="apf train m", data="none", metrics={})
    assert json.loads((weights / "manifest.json").read_text())["m"]["sha256"] == entry.sha256
    monkeypatch.setattr(registry, "WEIGHT_PACKAGES", ("pkg",))
    monkeypatch.setattr(registry.WeightsEntry, "path", property(lambda self: weights / self.file))
    assert registry.weights_path("m") == weights / "m.pt"
    (weights / "m.pt").write_bytes(b"altered!")
    with pytest.raises(registry.WeightsError, match="fails its sha256 check; retrain with: apf train m"):
        registry.weights_path("m")


def test_derived_files_are_built_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("APF_CACHE", str(tmp_path))
    calls = []

    def build(path):
        calls.append(path)
        torch.save({"w": torch.ones(2)}, path)

    first = registry.derived("converted", build, key="abcdef0123456789")
    second = registry.derived("converted", build, key="abcdef0123456789")
    assert first == second and first.parent == tmp_path and len(calls) == 1
    assert "abcdef012345" in first.name and not list(tmp_path.glob("*.tmp"))


def test_failed_build_leaves_no_partial_file(tmp_path, monkeypatch):
    monkeypatch.setenv("APF_CACHE", str(tmp_path))

    def build(path):
        path.write_bytes(b"half")
        raise RuntimeError("conversion failed")

    with pytest.raises(RuntimeError):
        registry.derived("broken", build)
    assert list(tmp_path.iterdir()) == []
