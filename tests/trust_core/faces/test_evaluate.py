"""Verification metrics, batch embedding past bad files, the APF protection protocol and `apf eval`."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from trust_core.faces.evaluate import (
    attack_cloak,
    best_threshold,
    embed_files,
    image_quality,
    protection,
    verification_metrics,
)


def test_best_threshold_and_leave_one_fold_out():
    sims = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.75])
    same = np.array([1, 1, 1, 0, 0, 0], bool)
    t = best_threshold(sims, same)
    assert 0.3 < t < 0.7 and (np.equal(sims >= t, same)).mean() == 5 / 6
    folds = np.repeat(np.arange(3), 4)
    rng = np.random.default_rng(0)
    same = np.tile([True, True, False, False], 3)
    sims = np.where(same, 0.8, 0.2) + rng.normal(0, 0.01, 12)
    metrics = verification_metrics(sims, same, folds)
    assert metrics["accuracy"] == 1.0 and metrics["roc_auc"] == 1.0 and metrics["folds"] == [1, 2, 3]
    assert all(0.2 < t < 0.8 for t in metrics["thresholds"])
    one = verification_metrics(sims[:4], same[:4], folds[:4], default_threshold=0.9)
    assert one["accuracy"] == 0.5 and one["oracle_accuracy"] == 1.0 and one["threshold"] == 0.9
    with pytest.raises(ValueError, match="default_threshold"):
        verification_metrics(sims[:4], same[:4], folds[:4])


def test_image_quality():
    a = torch.rand(2, 3, 16, 16)
    same = image_quality(a, a)
    assert same["ssim"] == pytest.approx(1.0) and same["linf"] == 0.0 and same["psnr"] is None
    noisy = image_quality(a, (a + 0.01).clamp(0, 1))
    assert 35 < noisy["psnr"] < 45 and noisy["linf"] == pytest.approx(0.01, abs=1e-6)


def test_embedding_continues_past_bad_files_and_caches(facenet, lfw_paths, tmp_path, monkeypatch):
    monkeypatch.setenv("APF_CACHE", str(tmp_path / "cache"))
    bad, blank = tmp_path / "bad.jpg", tmp_path / "blank.png"
    bad.write_text("not a photo")
    from PIL import Image

    Image.new("RGB", (120, 120), (128, 128, 128)).save(blank)
    out = embed_files(facenet, [lfw_paths[0], bad, blank, lfw_paths[1]], progress=False)
    assert set(out.embeddings) == {lfw_paths[0], lfw_paths[1]}
    assert out.errors == {bad: "not an image PIL can read", blank: "no face detected"}
    assert len(list((tmp_path / "cache" / "embeddings" / "facenet-casia").glob("*.npy"))) == 2
    with_fallback = embed_files(facenet, [blank], fallback=True, progress=False)
    assert with_fallback.fallbacks == [blank] and blank in with_fallback.embeddings
    assert embed_files(facenet, [blank], progress=False).errors == {blank: "no face detected"}
    from trust_core.faces.io import load_image

    two = tmp_path / "two.png"
    Image.fromarray(np.concatenate([load_image(lfw_paths[0]), load_image(lfw_paths[2])], axis=1)).save(two)
    assert "faces detected, expected one" in embed_files(facenet, [two], several="error", progress=False).errors[two]
    assert two in embed_files(facenet, [two], progress=False).embeddings
    monkeypatch.setattr(type(facenet), "_embed", lambda *a: pytest.fail("cache miss"))
    again = embed_files(facenet, [lfw_paths[0]], progress=False)
    assert torch.equal(again.embeddings[lfw_paths[0]], out.embeddings[lfw_paths[0]])


def test_protection_protocol_with_and_without_a_cloak(facenet, tiny_lfw_root):
    from trust_core.data import LFW

    lfw = LFW(tiny_lfw_root / "lfw")
    clean = protection(facenet, None, lfw=lfw, progress=False)
    assert clean["pairs"] == 4 and clean["genuine_still_matched"] == 1.0 and clean["impostor_matched"] == 0.0
    assert clean["ssim"] == pytest.approx(1.0) and clean["linf"] == 0.0
    cloak = attack_cloak(facenet, "pgd", eps=8 / 255, steps=5)
    cloaked = protection(facenet, cloak, lfw=lfw, progress=False)
    assert cloaked["genuine_still_matched"] == 0.0  # white-box dodging breaks every genuine match
    assert cloaked["linf"] <= 8 / 255 + 1e-6 and cloaked["ssim"] > 0.7 and cloaked["psnr"] > 30


def test_attack_cloak_rejects_black_box(dlib_recognizer):
    with pytest.raises(ValueError, match="not differentiable"):
        attack_cloak(dlib_recognizer)


def test_apf_eval_lfw_cli(facenet, tiny_lfw_root, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from trust_core.faces.cli import app

    monkeypatch.setenv("APF_DATA", str(tiny_lfw_root))
    out = tmp_path / "out.json"
    result = CliRunner().invoke(app, ["lfw", "--recognizer", "facenet-casia", "--folds", "1", "--json", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert metrics["accuracy"] == 1.0 and metrics["roc_auc"] == 1.0 and metrics["threshold"] == facenet.threshold
    assert metrics["pairs"] == 4 and out.with_suffix(".png").stat().st_size > 1000
    bad = CliRunner().invoke(app, ["lfw", "--recognizer", "nope"])
    assert bad.exit_code != 0 and "unknown recognizer" in bad.output
    protected = tmp_path / "protect.json"
    result = CliRunner().invoke(app, ["protect", "--cloak", "pgd", "--steps", "3", "--eps", "0.03", "--folds", "1",
                                      "--json", str(protected)])
    assert result.exit_code == 0, result.output
    report = json.loads(protected.read_text())
    assert report["pairs"] == 4 and report["linf"] <= 0.03 + 1e-6 and report["cloak"] == "pgd"
    assert report["genuine_still_matched"] < 1.0


def test_black_box_protection_pastes_into_the_photo(facenet, dlib_recognizer, tiny_lfw_root):
    from trust_core.data import LFW

    lfw = LFW(tiny_lfw_root / "lfw")
    identity = protection(dlib_recognizer, lambda crops: crops.clone(), crop_with=facenet, lfw=lfw, progress=False)
    assert identity["genuine_still_matched"] == 1.0 and identity["impostor_matched"] == 0.0
    assert identity["linf"] == 0.0 and identity["crop_with"] == "facenet-casia"
    blackout = protection(dlib_recognizer, lambda crops: torch.zeros_like(crops), crop_with=facenet, lfw=lfw,
                          progress=False)
    assert blackout["genuine_still_matched"] < 1.0 and blackout["linf"] > 0.5


def test_identification_rank1(facenet, tiny_lfw_root):
    from trust_core.data import LFW
    from trust_core.faces.evaluate import identification

    result = identification(facenet, min_images=2, lfw=LFW(tiny_lfw_root / "lfw"), progress=False)
    assert result["people"] == 2 and result["probes"] == 2 and result["rank1"] == 1.0


def test_roc_auc_equals_the_mann_whitney_statistic():
    from trust_core.faces.evaluate import roc_curve

    rng = np.random.default_rng(1)
    same = rng.random(300) < 0.5
    sims = np.round(np.where(same, 0.6, 0.4) + rng.normal(0, 0.15, 300), 2)  # rounded: many ties
    pos, neg = sims[same], sims[~same]
    mann_whitney = ((pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None])).mean()
    far, tar = roc_curve(sims, same)
    assert far[0] == tar[0] == 0 and far[-1] == tar[-1] == 1
    assert np.trapezoid(tar, far) == pytest.approx(mann_whitney, abs=1e-12)
    assert verification_metrics(sims, same, np.zeros(300, int), default_threshold=0.5)["roc_auc"] == pytest.approx(
        mann_whitney, abs=1e-12)


def test_protection_after_sharing_measures_the_shared_copy_and_the_visible_change(facenet, tiny_lfw_root):
    from trust_core.data import LFW

    lfw = LFW(tiny_lfw_root / "lfw")
    shared = protection(facenet, None, lfw=lfw, share="half+jpeg75", impostors=False, progress=False)
    assert shared["share"] == "half+jpeg75" and shared["pairs"] == 2  # genuine pairs only
    assert shared["genuine_still_matched"] == 1.0  # sharing alone does not hide a face
    assert shared["ssim"] == pytest.approx(1.0)  # quality is of the unshared photo: nothing was protected
    weak = protection(facenet, attack_cloak(facenet, "fgsm", eps=2 / 255), lfw=lfw, share="half+jpeg75",
                      impostors=False, progress=False)
    assert 0 < weak["linf"] <= 2 / 255 + 1 / 255  # the pasted-back, uint8 protected photo
