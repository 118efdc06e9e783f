"""The cloak pipeline on real photos: what is written, where, how, and what happens with bad input.

The enhancer here is a fixed, seeded APFFilter (so the mechanics are tested apart from the trained weights);
tests/apf_desktop/test_cloak_cli.py runs the shipped enhancer end to end.
"""
from __future__ import annotations

import errno
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from apf_desktop.photo import DiskFullError, write_photo
from apf_desktop.pipeline import CloakError, Cloaker, CloakSettings, photo_files

GPS_IFD, EXIF_IFD = 0x8825, 0x8769


@pytest.fixture(scope="module")
def enhancer():  # noqa: ANN201
    from cloud_enhancer.enhancer import Enhancer
    from cloud_enhancer.model import APFFilter

    torch.manual_seed(0)
    return Enhancer(APFFilter())


@pytest.fixture(scope="module")
def cloaker(enhancer) -> Cloaker:  # noqa: ANN001
    return Cloaker(CloakSettings(method="fgsm"), enhancer=enhancer)


@pytest.fixture(scope="module")
def lfw_photo() -> Path:
    from trust_core.data import LFW, DataMissingError

    try:
        return LFW().path("Abel_Pacheco", 1)
    except DataMissingError as exc:
        pytest.skip(f"LFW is not available: {exc}")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_png_changes_only_around_the_face_and_keeps_the_original(cloaker, lfw_photo, tmp_path):  # noqa: ANN001
    src = tmp_path / "face.png"
    Image.open(lfw_photo).save(src)
    before = digest(src)
    result = cloaker.cloak_file(src, out_dir=tmp_path / "out")
    assert digest(src) == before
    assert result.output == tmp_path / "out" / "face-cloaked.png" and result.output.is_file()
    a = np.asarray(Image.open(src)).astype(int)
    b = np.asarray(Image.open(result.output)).astype(int)
    changed = np.abs(a - b).max(-1)
    assert changed.max() >= 1 and changed.max() <= round(cloaker.settings.eps * 255) + 1
    ys, xs = np.nonzero(changed)
    x0, y0, x1, y1 = result.faces[0].box
    pad = 0.3 * (x1 - x0)  # the crop's margin around the box
    assert xs.min() >= x0 - pad and xs.max() <= x1 + pad and ys.min() >= y0 - pad and ys.max() <= y1 + pad


def test_jpeg_keeps_format_quality_tables_and_strips_identifying_exif(cloaker, lfw_photo, tmp_path):  # noqa: ANN001
    src = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "CameraMaker", "Model X", 6  # Make, Model, Orientation: rotate
    exif.get_ifd(EXIF_IFD)[0x829A] = 0.01  # ExposureTime (kept)
    exif.get_ifd(EXIF_IFD)[0xA431] = "SERIAL123"  # BodySerialNumber (stripped)
    exif.get_ifd(GPS_IFD)[2] = (48.0, 51.0, 24.0)  # GPSLatitude (stripped)
    # stored sideways; orientation 6 says "rotate 90° clockwise to view", which makes it upright again
    Image.open(lfw_photo).transpose(Image.Transpose.ROTATE_90).save(src, quality=83, exif=exif)
    result = cloaker.cloak_file(src, out_dir=tmp_path)
    with Image.open(src) as a, Image.open(result.output) as b:
        assert b.format == "JPEG" and b.quantization == a.quantization
        out = b.getexif()
        assert out.get(0x0112, 1) == 1 and 0x010F not in out and 0x0110 not in out
        assert not out.get_ifd(GPS_IFD) and 0xA431 not in out.get_ifd(EXIF_IFD)
        assert out.get_ifd(EXIF_IFD).get(0x829A) == pytest.approx(0.01)
        assert b.size == (a.size[1], a.size[0])  # stored upright

    kept = Cloaker(CloakSettings(method="fgsm", keep_metadata=True), enhancer=cloaker.enhancer)
    out = Image.open(kept.cloak_file(src, out_dir=tmp_path / "keep").output).getexif()
    assert out.get(0x010F) == "CameraMaker" and out.get_ifd(GPS_IFD) and out.get(0x0112) == 1


def test_rerun_skips_finished_photos(cloaker, lfw_photo, tmp_path):  # noqa: ANN001
    first = cloaker.cloak_file(lfw_photo, out_dir=tmp_path)
    stamp = first.output.stat().st_mtime_ns
    again = cloaker.cloak_file(lfw_photo, out_dir=tmp_path)
    assert again.skipped and again.output == first.output and first.output.stat().st_mtime_ns == stamp


def test_ten_faces_are_all_protected(cloaker, tmp_path):  # noqa: ANN001
    from trust_core.data import LFW

    people = sorted(LFW().training_people())[:10]
    tiles = [np.asarray(Image.open(LFW().training_people()[p][0]))[40:210, 40:210] for p in people]
    grid = np.concatenate([np.concatenate(tiles[:5], 1), np.concatenate(tiles[5:], 1)], 0)
    src = tmp_path / "group.png"
    Image.fromarray(grid).save(src)
    result = cloaker.cloak_file(src, out_dir=tmp_path)
    assert len(result.faces) == 10
    changed = np.abs(np.asarray(Image.open(result.output)).astype(int) - grid.astype(int)).max(-1)
    for face in result.faces:  # every face got a filter
        x0, y0, x1, y1 = face.box.astype(int)
        assert changed[y0:y1, x0:x1].mean() > 0.5


@pytest.mark.parametrize("case", ["no_face", "corrupt", "not_image", "huge"])
def test_bad_photos_give_a_clear_error_and_write_nothing(cloaker, lfw_photo, tmp_path, case):  # noqa: ANN001
    src = tmp_path / ("photo.png" if case != "corrupt" else "photo.jpg")
    if case == "no_face":
        Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(src)
        reason = "no face"
    elif case == "corrupt":
        src.write_bytes(lfw_photo.read_bytes()[:3000])
        reason = "corrupt"
    elif case == "not_image":
        src.write_text("not a photo")
        reason = "not an image"
    else:
        Image.new("1", (12000, 9000)).save(src)  # 108 MP, a few kB on disk
        reason = "too large|pixel limit"
    with pytest.raises(CloakError, match=reason):
        cloaker.cloak_file(src, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_small_face_is_protected_with_a_warning(cloaker, lfw_photo, tmp_path):  # noqa: ANN001
    canvas = np.full((320, 320, 3), 200, np.uint8)
    canvas[100:175, 100:175] = np.asarray(Image.open(lfw_photo).resize((75, 75), Image.LANCZOS))  # ≈ 30 px face
    src = tmp_path / "small.png"
    Image.fromarray(canvas).save(src)
    result = cloaker.cloak_file(src, out_dir=tmp_path)
    assert result.faces and result.faces[0].width < 40
    assert "px wide" in result.faces[0].warning


def test_original_is_never_overwritten(lfw_photo, tmp_path):  # noqa: ANN001
    from apf_desktop.photo import read_photo

    src = tmp_path / "a.jpg"
    src.write_bytes(lfw_photo.read_bytes())
    photo = read_photo(src)
    with pytest.raises(ValueError, match="overwrite the original"):
        write_photo(photo, photo.pixels, src)


def test_full_disk_leaves_no_partial_file(lfw_photo, tmp_path, monkeypatch):  # noqa: ANN001
    from apf_desktop.photo import read_photo

    photo = read_photo(lfw_photo)

    def no_space(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", no_space)
    with pytest.raises(DiskFullError):
        write_photo(photo, photo.pixels, tmp_path / "out.jpg")
    assert list(tmp_path.iterdir()) == []


def test_dead_remote_enhancer_is_reported_and_nothing_is_written(lfw_photo, tmp_path):  # noqa: ANN001
    import socket

    from edge_probe.client import EnhancerUnavailable

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    remote = Cloaker(CloakSettings(method="fgsm", server=f"http://127.0.0.1:{port}", token="t", timeout=2))
    remote.enhancer.retries, remote.enhancer.backoff = 1, 0.05
    with pytest.raises(EnhancerUnavailable, match="unavailable"):
        remote.cloak_file(lfw_photo, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_folders_expand_to_their_photos_without_earlier_outputs(tmp_path):  # noqa: ANN001
    for name in ("b.jpg", "a.PNG", "a-cloaked.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in photo_files([tmp_path])] == ["a.PNG", "b.jpg"]


def test_reference_photos_set_the_signal_reference_and_are_checked_against(enhancer, lfw_photo, tmp_path):  # noqa: ANN001
    from trust_core.data import LFW

    reference = LFW().path("Abel_Pacheco", 4)
    cloaker = Cloaker(CloakSettings(method="fgsm", check=True, references=(reference,)), enhancer=enhancer)
    crops, embeddings = cloaker.references()
    assert len(crops) == 1 and crops[0].shape == (3, 112, 112) and {"facenet-casia", "probe"} <= set(embeddings)
    checks = cloaker.cloak_file(lfw_photo, out_dir=tmp_path).faces[0].checks
    against = {(c["recognizer"], c["against"]): c["similarity"] for c in checks if c["condition"] == "saved"}
    # the same person in another photo is further from the protected face than the photo itself
    assert 0 < against["facenet-casia", "references"] < against["facenet-casia", "original"]
    assert ("probe", "references") in against


class Recording:
    """An enhancer that keeps the signals it is sent (decoded) before answering with the wrapped one."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner, self.signals = inner, []

    def enhance(self, message: bytes) -> bytes:
        from edge_probe import wire

        self.signals.append(wire.decode(message, kind="signal").values)
        return self.inner.enhance(message)


def test_randomised_response_flips_a_quarter_of_the_sent_bits(enhancer, lfw_photo, tmp_path):  # noqa: ANN001
    sent = {}
    for rate in (0.0, 0.5):
        recording = Recording(enhancer)
        cloaker = Cloaker(CloakSettings(method="fgsm", randomize=rate), enhancer=recording)
        cloaker.cloak_file(lfw_photo, out_dir=tmp_path / str(rate))
        sent[rate] = recording.signals[0]
    flipped = float((np.sign(sent[0.5]) != np.sign(sent[0.0])).mean())
    assert abs(flipped - 0.25) < 0.02  # 37,632 bits of one face
    assert np.allclose(np.abs(sent[0.5]), CloakSettings().eps, atol=1e-6)  # still a sign map at the budget


@pytest.mark.parametrize("rate", [-0.1, 1.0])
def test_a_bad_randomised_response_rate_is_refused(rate):  # noqa: ANN001
    with pytest.raises(ValueError, match="rate must lie in"):
        CloakSettings(randomize=rate)


def test_masking_scales_the_same_filter_down(cloaker, enhancer, lfw_photo, tmp_path):  # noqa: ANN001
    from trust_core.faces.io import load_image

    masked = cloaker  # mid under the mask: L∞ 12/255, as high without it
    plain = Cloaker(CloakSettings(method="fgsm", strength="high", masking=False), enhancer=enhancer)
    assert masked.settings.masking and masked.settings.eps == plain.settings.eps == 12 / 255
    src = tmp_path / "face.png"  # lossless, so the difference is the filter alone
    Image.open(lfw_photo).save(src)
    original = load_image(src).astype(int)
    plain, soft = (np.abs(load_image(c.cloak_file(src, out_dir=tmp_path / name).output).astype(int) - original)
                   for c, name in ((plain, "plain"), (masked, "masked")))
    assert soft.max() <= plain.max() <= 13
    assert 0.2 * plain.sum() < soft.sum() < 0.95 * plain.sum()  # less change overall, but the filter is still there
    # nowhere more than the plain filter, +1 for the rounding to 8 bits; the paste-back's interpolation mixes
    # neighbours of opposite sign, which the mask can unbalance, so a few pixels in ten thousand go one level further
    assert np.mean(soft <= plain + 1) > 0.9999 and np.all(soft <= plain + 2)


def test_each_strength_looks_alike_masked_at_its_larger_budget_and_uniform_at_its_own():
    """The presets' pairing (README: SSIM on 300 LFW faces), on 8 faces with the shipped probe and enhancer."""
    from skimage.metrics import structural_similarity

    from cloud_enhancer.enhancer import Enhancer
    from edge_probe.bench import lfw_crops
    from edge_probe.crops import apply_filter
    from edge_probe.masking import STRENGTHS
    from edge_probe.runtime import ProbeRuntime

    crops, probe, shipped = lfw_crops(8), ProbeRuntime(), Enhancer.load()

    def ssim(eps: float, masking: bool) -> float:
        signals = np.concatenate([probe.signal(crop, method="fgsm", eps=eps) for crop in crops])
        protected = apply_filter(crops, shipped.filters(signals, np.full(len(crops), eps, np.float32)), masking=masking)
        return float(np.mean([structural_similarity(x.transpose(1, 2, 0), y.transpose(1, 2, 0), channel_axis=2,
                                                    data_range=1.0) for x, y in zip(crops, protected)]))

    for name, strength in STRENGTHS.items():
        masked, uniform = ssim(strength.masked, True), ssim(strength.uniform, False)
        assert strength.masked > strength.uniform and masked > uniform - 0.01, (name, masked, uniform)
    assert ssim(STRENGTHS["mid"].masked, False) < ssim(STRENGTHS["mid"].uniform, False) - 0.05  # unmasked, it shows


def test_every_preset_budget_is_one_the_enhancer_accepts(enhancer):  # noqa: ANN001
    from cloud_enhancer.enhancer import MAX_EPS
    from edge_probe.masking import STRENGTHS

    budgets = [s.eps(masking=m) for s in STRENGTHS.values() for m in (True, False)]
    assert max(budgets) <= MAX_EPS
    signals = np.zeros((len(budgets), 3, 112, 112), np.float32)
    assert enhancer.filters(signals, np.array(budgets, np.float32)).shape == signals.shape  # the embedded one too


def test_grayscale_photo_gets_a_gray_filter_and_stays_grayscale(cloaker, lfw_photo, tmp_path):  # noqa: ANN001
    src = tmp_path / "bw.jpg"
    Image.open(lfw_photo).convert("L").save(src, quality=95)
    result = cloaker.cloak_file(src, out_dir=tmp_path / "out")
    written = Image.open(result.output)
    assert written.mode == "L" and result.output.name == "bw-cloaked.jpg"
    changed = np.abs(np.asarray(written).astype(int) - np.asarray(Image.open(src)).astype(int))
    x0, y0, x1, y1 = result.faces[0].box.astype(int)
    assert changed[y0:y1, x0:x1].mean() > 1  # the face carries the filter, in luminance


def test_transparent_photo_keeps_its_alpha_channel(cloaker, lfw_photo, tmp_path):  # noqa: ANN001
    rgb = np.asarray(Image.open(lfw_photo).convert("RGB"))
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, :20] = 0  # a transparent margin
    src = tmp_path / "cut-out.png"
    Image.fromarray(np.dstack([rgb, alpha])).save(src)
    result = cloaker.cloak_file(src, out_dir=tmp_path / "out")
    written = np.asarray(Image.open(result.output))
    assert written.shape[-1] == 4 and np.array_equal(written[..., 3], alpha)
    assert np.abs(written[..., :3].astype(int) - rgb).max() >= 1


def test_black_and_white_photo_stored_in_colour_gets_a_neutral_filter(cloaker, lfw_photo, tmp_path):  # noqa: ANN001
    src = tmp_path / "bw.png"
    Image.open(lfw_photo).convert("L").convert("RGB").save(src)
    result = cloaker.cloak_file(src, out_dir=tmp_path / "out")
    written = np.asarray(Image.open(result.output)).astype(int)
    assert written.ndim == 3 and written.shape[-1] == 3
    assert (written[..., 0] == written[..., 1]).all() and (written[..., 1] == written[..., 2]).all()
    assert np.abs(written - np.asarray(Image.open(src)).astype(int)).max() >= 1
