"""``apf bench cloak``: end-to-end cloak time per face on LFW photos vs a direct PGD on the standard recognizer.

APF: :meth:`apf_desktop.pipeline.Cloaker.cloak_file` (detect, the probe's signal on onnxruntime, the embedded
enhancer, paste-back, write). Baseline: the same detection, crop, paste-back and write around a 50-step PGD on
FaceNet-CASIA itself at the same budget (what a white-box cloak such as Fawkes's optimisation costs). Both are
measured in the same run on the same photos, side by side with the protection they give: FaceNet-CASIA and dlib
similarity of the protected face to the same face in the original, the fraction still matched, and SSIM.
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import click
import numpy as np


def lfw_photos(count: int, *, seed: int = 0) -> list[Path]:
    """``count`` LFW photos of different people, none from pairs.txt."""
    from trust_core.data import LFW

    people = LFW().training_people()
    names = sorted(people)
    np.random.default_rng(seed).shuffle(names)
    return [people[n][0] for n in names[:count]]


def grayscale_copy(path: Path, folder: Path) -> Path:
    """A grayscale JPEG (q95) of the photo at ``path`` in ``folder``."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{path.stem}.jpg"
    with Image.open(path) as image:
        image.convert("L").save(target, quality=95)
    return target


def _protection(original: np.ndarray, protected: np.ndarray, faces, recognizers) -> dict:  # noqa: ANN001
    import torch

    from trust_core.faces.evaluate import image_quality

    out = {}
    for rec in recognizers:
        with torch.no_grad():
            a = rec.align(original, faces[:1]).crops
            b = rec.align(protected, faces[:1]).crops
            sim = float(rec.similarity(rec.embed(a), rec.embed(b))[0])
        out[rec.name] = {"similarity": sim, "matched": sim >= rec.threshold}
        if rec.name == "facenet-casia":
            out["ssim"] = image_quality(a, b)["ssim"]
    return out


def _summary(rows: list[dict], names: list[str]) -> dict:
    return {"median_s_per_face": statistics.median(r["seconds"] / r["faces"] for r in rows),
            "ssim": float(np.mean([r["ssim"] for r in rows])),
            **{f"{n}_still_matched": float(np.mean([r[n]["matched"] for r in rows])) for n in names},
            **{f"{n}_similarity": float(np.mean([r[n]["similarity"] for r in rows])) for n in names}}


@click.command(name="cloak")
@click.option("--photos", type=int, default=50, show_default=True, help="LFW photos cloaked by APF.")
@click.option("--baseline-photos", type=int, default=10, show_default=True, help="The first N also by PGD-50.")
@click.option("--strength", default="mid", show_default=True)
@click.option("--method", default="di2fgsm", show_default=True)
@click.option("--pgd-steps", type=int, default=50, show_default=True)
@click.option("--masking/--no-masking", default=True, show_default=True,
              help="APF's filter under the texture mask, as apf cloak does by default; PGD gets the same L∞.")
@click.option("--gray", is_flag=True, help="Cloak grayscale copies of the photos (JPEG q95), as a black-and-white "
                                          "photo is cloaked: gray filter, grayscale copy.")
@click.option("--json", "json_out", type=click.Path(path_type=Path, dir_okay=False), default=None)
def cli(photos: int, baseline_photos: int, strength: str, method: str, pgd_steps: int, masking: bool, gray: bool,
        json_out: Path | None) -> None:
    """Median seconds per face of `apf cloak` vs a direct PGD, and the protection of each."""
    import torch

    from apf_desktop.photo import read_photo, write_photo
    from apf_desktop.pipeline import Cloaker, CloakSettings, detect_faces
    from trust_core.faces.align import paste_faces
    from trust_core.faces.evaluate import attack_cloak
    from trust_core.faces.io import load_image
    from trust_core.faces.recognizers import get_recognizer

    settings = CloakSettings(strength=strength, method=method, masking=masking)
    cloaker = Cloaker(settings)
    t0 = time.perf_counter()
    cloaker.warm_up()
    facenet = get_recognizer("facenet-casia")
    recognizers = [facenet, get_recognizer("dlib")]
    names = [r.name for r in recognizers]
    warm = time.perf_counter() - t0
    pgd = attack_cloak(facenet, "pgd", eps=settings.eps, steps=pgd_steps)
    files = lfw_photos(photos)
    apf_rows, pgd_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        if gray:
            files = [grayscale_copy(path, out / "gray") for path in files]
        cloaker.cloak_file(files[0], out_dir=out / "warm")  # first-call costs (graph init) are not per face
        for i, path in enumerate(files):
            result = cloaker.cloak_file(path, out_dir=out / "apf")
            faces = detect_faces(load_image(path))
            apf_rows.append({"seconds": result.seconds, "faces": len(result.faces),
                             **_protection(load_image(path), load_image(result.output), faces, recognizers)})
            if i < baseline_photos:
                start = time.perf_counter()
                photo = read_photo(path)
                faces = detect_faces(photo.pixels)
                aligned = facenet.align(photo.pixels, faces)
                protected = paste_faces(photo.pixels, aligned, pgd(aligned.crops).detach())
                target = write_photo(photo, protected, out / f"pgd-{path.name}")
                seconds = time.perf_counter() - start
                pgd_rows.append({"seconds": seconds, "faces": len(faces),
                                 **_protection(photo.pixels, load_image(target), faces, recognizers)})
            click.echo(f"{i + 1}/{len(files)} {path.name}: APF {result.seconds:.2f} s"
                       + (f", PGD-{pgd_steps} {pgd_rows[-1]['seconds']:.2f} s" if i < baseline_photos else ""), err=True)
    apf, base = _summary(apf_rows, names), _summary(pgd_rows, names)
    report = {"photos": len(apf_rows), "baseline_photos": len(pgd_rows), "strength": strength, "eps": settings.eps,
              "masking": masking, "gray": gray, "method": method, "pgd_steps": pgd_steps, "warm_up_s": round(warm, 2),
              "threads": torch.get_num_threads(),
              "apf": apf, f"pgd{pgd_steps}": base, "speedup": base["median_s_per_face"] / apf["median_s_per_face"]}
    click.echo(f"{'':22}{'APF (' + method + ')':>18}{'PGD-' + str(pgd_steps):>14}")
    for key in apf:
        click.echo(f"{key:22}{apf[key]:>18.4f}{base[key]:>14.4f}")
    click.echo(f"APF is {report['speedup']:.1f}x faster per face (median), models warm in {warm:.1f} s")
    if json_out:
        json_out.write_text(json.dumps(report, indent=1))
