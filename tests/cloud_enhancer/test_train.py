"""Training the enhancer: identity-disjoint splits, the sharing pipeline, and a few steps that really protect."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cloud_enhancer.train import (Objective, build_faces, dodging_loss, fit, lineage, sharing, split_identities,
                                  validate)


def test_split_keeps_every_identity_on_one_side(tmp_path):  # noqa: ANN001
    people = {f"p{i}": [tmp_path / f"p{i}_{j}.jpg" for j in range(2 + i % 3)] for i in range(40)}
    train, val = split_identities(people, faces=60, val_fraction=0.2)
    assert not {n for _, n in train} & {n for _, n in val}
    assert len(train) + len(val) >= 60 and len({n for _, n in val}) >= 2


def test_shared_crop_averages_at_the_photo_scale_and_compresses_there(monkeypatch):  # noqa: ANN001
    from cloud_enhancer import train

    checker = (torch.arange(160)[:, None] + torch.arange(160)[None]) % 2
    x = checker.float().expand(1, 3, 160, 160).contiguous()
    averaged = train.shared_crop(x, 0.4)
    assert (averaged - 0.5).abs().max() < 0.1  # an area resize leaves the mean, not a sample of the pattern
    seen = []
    monkeypatch.setattr("trust_core.attacks.transforms.jpeg", lambda t, q: seen.append((t.shape[-1], q)) or t)
    assert train.shared_crop(x, 0.4, 75).shape == x.shape and seen == [(64, 75)]


def test_sharing_keeps_shape_and_passes_gradients():
    x = torch.rand(4, 3, 160, 160, requires_grad=True)
    gen = torch.Generator().manual_seed(0)
    for _ in range(6):  # every branch draws from the same generator
        out = sharing(x, generator=gen)
        assert out.shape == x.shape
        out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_the_hinge_objective_ignores_faces_already_unmatched_by_the_margin():
    to_self = torch.tensor([0.9, 0.2], requires_grad=True)
    to_others = torch.tensor([0.45, 0.25], requires_grad=True)
    assert dodging_loss(to_self, to_others, threshold=0.4).item() == pytest.approx((0.9 + 0.2 + 0.45 + 0.25) / 4)
    loss = dodging_loss(to_self, to_others, threshold=0.4, margin=0.1)
    assert loss.item() == pytest.approx((0.6 + 0.15) / 4)
    loss.backward()
    assert to_self.grad.tolist() == [0.25, 0.0] and to_others.grad.tolist() == [0.25, 0.0]


@pytest.fixture(scope="module")
def tiny_faces(tmp_path_factory, monkeypatch_module):  # noqa: ANN001, ANN201
    from trust_core.data import LFW, DataMissingError

    monkeypatch_module.setenv("APF_CACHE", str(tmp_path_factory.mktemp("cache")))
    try:
        people = LFW().training_people(min_images=2)
    except DataMissingError as exc:
        pytest.skip(f"LFW is not available: {exc}")
    rows = [(p, name) for name in sorted(people)[:6] for p in people[name][:2]]
    return build_faces(rows, progress=False)


@pytest.fixture(scope="module")
def monkeypatch_module():  # noqa: ANN201
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_faces_carry_crops_signals_and_embeddings(tiny_faces):  # noqa: ANN001
    assert tiny_faces.crops.shape == (12, 3, 160, 160) and tiny_faces.crops.dtype == np.uint8
    assert tiny_faces.signals.shape == (12, 2, 3, 112, 112) and np.abs(tiny_faces.signals).max() <= 127
    assert np.allclose(np.linalg.norm(tiny_faces.others, axis=1), 1, atol=1e-4)


def test_a_few_universal_steps_lower_the_match_to_the_other_photos(tiny_faces):  # noqa: ANN001
    from cloud_enhancer.model import APFFilter

    torch.manual_seed(0)
    objective = Objective(tiny_faces)
    filt = APFFilter()
    rows = {"use_transfer": False, "use_signal": False}
    before = validate(objective, filt, rows=rows)
    best, history = fit(filt, objective, objective, steps=8, lr=0.05, batch=6, params=filt.universal.parameters(),
                        label="test", rows=rows, validate_every=4, seed=0, progress=False)
    assert best["cosine"] < before["cosine"] - 0.02 and [h["step"] for h in history] == [0, 4, 8]
    assert history[0]["cosine"] == before["cosine"]
    assert {"shared_still_matched", "masked_still_matched", "masked_shared_still_matched"} <= set(best)


def test_budgets_are_the_presets_masked_or_uniform():
    from cloud_enhancer.train import _draw_budgets
    from edge_probe.masking import STRENGTHS

    rng = np.random.default_rng(0)
    for share, masking in ((0.0, False), (1.0, True)):
        eps, masked = _draw_budgets(400, rng, share)
        assert bool((masked == masking).all())
        values, counts = np.unique(np.round(eps.numpy() * 255, 3), return_counts=True)
        assert values.tolist() == sorted(round(s.eps(masking=masking) * 255, 3) for s in STRENGTHS.values())
        assert counts[1] > counts[0] and counts[1] > counts[2]  # mid most often
    _, masked = _draw_budgets(1000, rng, 0.5)
    assert 0.45 < float(masked.float().mean()) < 0.55


def test_masked_faces_get_the_filter_under_their_texture_mask(tiny_faces):  # noqa: ANN001
    from cloud_enhancer.model import APFFilter
    from edge_probe.masking import FLOOR, texture_mask

    torch.manual_seed(0)
    objective, filt = Objective(tiny_faces), APFFilter()
    crops, g, _, _ = objective.batch(np.arange(4))
    eps = torch.full((4,), 12 / 255)
    with torch.no_grad():
        plain = objective.protected(filt, crops, g, eps) - crops
        masked = objective.protected(filt, crops, g, eps, masked=torch.tensor([True, True, False, False])) - crops
    weights = torch.from_numpy(texture_mask(crops.numpy()))
    assert torch.equal(masked[2:], plain[2:])  # the unmasked faces are untouched
    inside = (crops[:2] > 13 / 255) & (crops[:2] < 1 - 13 / 255)  # where clip(x + s) cannot clip
    assert torch.allclose(masked[:2][inside], (plain[:2] * weights[:2])[inside], atol=1e-6)
    smooth = (weights[:2] == FLOOR).expand_as(masked[:2])
    assert smooth.any() and masked[:2][smooth].abs().max() <= FLOOR * 12 / 255 + 1e-6


def test_fit_keeps_the_starting_weights_when_no_step_beats_them(tiny_faces):  # noqa: ANN001
    from cloud_enhancer.model import APFFilter

    torch.manual_seed(0)
    objective = Objective(tiny_faces)
    filt = APFFilter()
    best, history = fit(filt, objective, objective, steps=2, lr=0.0, batch=6, params=filt.universal.parameters(),
                        label="test", rows={"use_transfer": False, "use_signal": False}, validate_every=1, seed=0,
                        progress=False)
    assert best["step"] == 0 and len(history) == 3  # a tie goes to the weights it started from


def test_lineage_finds_the_recorded_training_of_the_starting_weights(tmp_path):  # noqa: ANN001
    import json

    from trust_core.models.registry import manifest_path, sha256_of

    shipped = manifest_path("cloud_enhancer").parent / "apf_filter.pt"
    entry = json.loads(manifest_path("cloud_enhancer").read_text())["apf_filter"]
    found = lineage(shipped)
    assert found == {"sha256": sha256_of(shipped), "command": entry["command"], "metrics": entry["metrics"]}
    unknown = tmp_path / "other.pt"
    unknown.write_bytes(b"not the shipped weights")
    assert lineage(unknown) == {"sha256": sha256_of(unknown)}  # no record: the checksum alone


def test_signals_of_another_probe_are_cached_apart_and_the_shipped_enhancer_is_kept(tmp_path):  # noqa: ANN001
    from click.testing import CliRunner

    import json

    from cloud_enhancer.train import _cache_file, cli
    from edge_probe.model import WEIGHTS_NAME, probe_weights
    from trust_core.models.registry import sha256_of

    (tmp_path / f"{WEIGHTS_NAME}.pt").write_bytes(b"another probe")
    (tmp_path / "manifest.json").write_text(json.dumps({WEIGHTS_NAME: {
        "file": f"{WEIGHTS_NAME}.pt", "sha256": sha256_of(tmp_path / f"{WEIGHTS_NAME}.pt"), "metrics": {}}}))
    rows = [(tmp_path / "a.jpg", "a")]
    assert probe_weights(tmp_path)[1] == tmp_path / f"{WEIGHTS_NAME}.pt"
    assert _cache_file(rows, tmp_path) != _cache_file(rows)  # keyed by the probe's weights
    refused = CliRunner().invoke(cli, ["--probe", str(tmp_path)])
    assert refused.exit_code == 2 and "--probe needs --out" in refused.output


def test_enhancer_loads_an_experiments_weights(tmp_path):  # noqa: ANN001
    from cloud_enhancer.enhancer import Enhancer
    from cloud_enhancer.model import APFFilter

    torch.manual_seed(3)
    filt = APFFilter()
    torch.save(filt.state_dict(), tmp_path / "apf_filter.pt")
    loaded = Enhancer.load(device="cpu", weights=tmp_path / "apf_filter.pt").filter
    shipped = Enhancer.load(device="cpu").filter
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), filt.state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), shipped.state_dict().values()))
