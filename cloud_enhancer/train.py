"""``apf train enhancer``: the universal perturbation û, then the U-Net transfer network T (APF, Zhang et al. 2020).

Training faces: CelebA-10k identities with two or more photos and LFW people absent from pairs.txt (never an LFW
pair image); a held-out tenth of the identities selects the checkpoint. Each face is the standard recognizer's
160-px box crop; the probe sees its 112-px view and gives the signal g (FGSM for every face, plus one of I-FGSM,
MI-FGSM, DI²-FGSM in turn), precomputed once and cached in the user cache.

Objective (dodging): the protected crop clip(x + s, 0, 1), s = clip(T(g) + α·û, −eps, eps) resized to 160 px,
must lose the standard recognizer's match with the face's own clean embedding and with the mean embedding of the
person's other photos: the mean cosine to both, or with ``--margin m`` a hinge that only pushes the cosines still
above the recognizer's threshold τ − m (the confidence margin of Carlini & Wagner, S&P 2017), so the steps are spent on
the faces that are still recognised. Every step passes it through a random sharing pipeline first — JPEG, a 0.5× resize of the photo,
blur, each at the resolution the crop has in the photo, area-averaged as image libraries resize — and DI²-style
input diversity (Xie et al., CVPR 2019), so the filter survives what social networks do. Each face gets a strength
preset's budget, and with ``--masked-share`` probability the device's texture mask (:mod:`edge_probe.masking`) at
the preset's larger masked budget, as ``apf cloak`` applies it by default. Checkpoints are chosen by the held-out
match rate as saved plus after a 0.5× resize and JPEG q75, at `mid` with and without the mask.

Training the cloud side needs the probe (to make the signals); serving it needs only :mod:`edge_probe.wire`.
"""
from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

#: the four signal methods; every face gets FGSM and the iterative method ITERATIVE[i % 3].
ITERATIVE = ("ifgsm", "mifgsm", "di2fgsm")
#: strength presets (:data:`edge_probe.masking.STRENGTHS`) drawn in training, mid most often; each face is
#: protected under the texture mask at the preset's masked budget with probability ``--masked-share``, else
#: uniformly at its uniform budget.
PRESET_WEIGHTS = {"low": 0.25, "mid": 0.5, "high": 0.25}
SIGNAL_EPS = 8 / 255


@dataclass
class FaceSet:
    """Crops (uint8 (N, 3, 160, 160)), probe signals in units of eps (int8 ×127, (N, 2, 3, 112, 112): FGSM and one
    iterative method), clean embeddings (N, 512), the mean embedding of the person's other photos (N, 512)."""

    crops: np.ndarray
    signals: np.ndarray
    clean: np.ndarray
    others: np.ndarray

    def __len__(self) -> int:
        return len(self.crops)


def training_identities(*, seed: int = 0) -> dict[str, list[Path]]:
    """Person -> photos (two or more): CelebA-10k identities and LFW people not in pairs.txt."""
    from trust_core.data import LFW, CelebA

    celeba = CelebA()
    people: dict[str, list[Path]] = {}
    for path, ident in zip(celeba.paths(), celeba.identities, strict=True):
        people.setdefault(f"celeba-{ident}", []).append(path)
    lfw = LFW()
    banned = lfw.pair_images()
    for person, paths in lfw.training_people(min_images=2).items():
        people[f"lfw-{person}"] = [p for p in paths if p not in banned]
    return {k: v for k, v in people.items() if len(v) >= 2}


def split_identities(people: dict[str, list[Path]], *, faces: int, val_fraction: float = 0.1,
                     seed: int = 0) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """(train, val) lists of (photo, person) with about ``faces`` photos in all, split by identity."""
    names = sorted(people)
    np.random.default_rng(seed).shuffle(names)
    rows: list[tuple[Path, str]] = []
    for name in names:
        if len(rows) >= faces:
            break
        rows.extend((p, name) for p in people[name][:4])
    chosen = list(dict.fromkeys(n for _, n in rows))
    val_people = set(chosen[:max(1, int(len(chosen) * val_fraction))])
    return [r for r in rows if r[1] not in val_people], [r for r in rows if r[1] in val_people]


def _cache_file(rows: list[tuple[Path, str]], probe: Path | None = None) -> Path:
    """The cache file of a chunk's crops and signals, keyed by its photos and the weights of the probe (shipped, or
    trained into the folder ``probe``) that made the signals."""
    from edge_probe.model import probe_weights
    from trust_core.models.registry import cache_dir, sha256_of

    key = hashlib.sha256(("\n".join(f"{p}|{n}" for p, n in rows) + sha256_of(probe_weights(probe)[1])).encode())
    folder = cache_dir() / "enhancer-train"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key.hexdigest()[:20]}.npz"


def _chunk(rows: list[tuple[Path, str]], offset: int, teacher, probe) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Crops, signals and clean embeddings of one chunk; row ``offset + k`` gets ITERATIVE[(offset + k) % 3]."""
    import torch

    from edge_probe.signal import compute_signal
    from edge_probe.train import teacher_crops

    big, small = teacher_crops([p for p, _ in rows])
    with torch.no_grad():
        clean = teacher.embed(torch.from_numpy(big)).numpy()
    pair = np.zeros((len(big), 2, *small.shape[1:]), np.int8)
    pair[:, 0] = np.rint(compute_signal(probe, small, method="fgsm", eps=SIGNAL_EPS).numpy() / SIGNAL_EPS * 127)
    for j, method in enumerate(ITERATIVE):
        idx = [k for k in range(len(big)) if (offset + k) % len(ITERATIVE) == j]
        if idx:
            g = compute_signal(probe, small[idx], method=method, eps=SIGNAL_EPS).numpy()
            pair[idx, 1] = np.rint(g / SIGNAL_EPS * 127)
    return {"crops": np.rint(big * 255).astype(np.uint8), "signals": pair, "clean": clean.astype(np.float32)}


def build_faces(rows: list[tuple[Path, str]], *, probe: Path | None = None, progress: bool = True,
                chunk: int = 64) -> FaceSet:
    """Crops, signals (of the shipped probe, or of the one in the folder ``probe``) and embeddings of ``rows``, cached
    chunk by chunk in the user cache (an interrupted run resumes; a rerun starts training at once)."""
    from edge_probe.model import load_probe
    from trust_core.faces.recognizers import get_recognizer

    models = None
    parts = []
    start = time.time()
    for i in range(0, len(rows), chunk):
        file = _cache_file(rows[i:i + chunk], probe)
        if not file.is_file():
            models = models or (get_recognizer("facenet-casia"), load_probe(probe))
            tmp = file.with_suffix(".tmp.npz")
            np.savez(tmp, **_chunk(rows[i:i + chunk], i, *models))
            tmp.replace(file)
        with np.load(file) as data:
            parts.append({k: data[k] for k in data.files})
        if progress:
            click.echo(f"faces {min(i + chunk, len(rows))}/{len(rows)} ready ({time.time() - start:.0f} s)", err=True)
    clean = np.concatenate([p["clean"] for p in parts])
    names = [n for _, n in rows]
    others = np.zeros_like(clean)
    for k, name in enumerate(names):
        mates = [j for j, n in enumerate(names) if n == name and j != k]
        mean = clean[mates].mean(0) if mates else clean[k]
        others[k] = mean / max(np.linalg.norm(mean), 1e-12)
    return FaceSet(np.concatenate([p["crops"] for p in parts]), np.concatenate([p["signals"] for p in parts]),
                   clean, others)


#: the 160-px crop's scale in the photo (its box plus margin spans 110–145 px of an LFW or CelebA photo), and after a
#: 0.5× resize of the photo: the resolution at which a shared face reaches the recognizer.
PHOTO_SCALE = (0.6, 0.9)
SHARED_SCALE = (0.3, 0.45)
#: the sharing check of validation: a 0.5× photo resize (the crop at 0.4×, area-averaged), then JPEG q75.
VALIDATION_SHARE_SCALE = 0.4


def _uniform(bounds: tuple[float, float], generator) -> float:  # noqa: ANN001
    import torch

    return bounds[0] + (bounds[1] - bounds[0]) * float(torch.rand((), generator=generator))


def shared_crop(x, scale: float, quality: int | None = None):  # noqa: ANN001, ANN201 - torch tensors
    """The crop as a recognizer sees it in a photo resized so the crop spans ``scale`` × its size (area-averaged),
    optionally JPEG-compressed at that size."""
    from trust_core.attacks.transforms import jpeg, resize

    return resize(x, scale, antialias=True, between=None if quality is None else (lambda t: jpeg(t, quality)))


def sharing(x, *, generator):  # noqa: ANN001, ANN201 - torch tensors
    """A random sharing pipeline for the batch: none, JPEG q∈[50, 90] of the photo, a 0.5× photo resize, blur, or
    the resize then JPEG q75 (the crop at its photo scale, :data:`PHOTO_SCALE` / :data:`SHARED_SCALE`); then input
    diversity."""
    import torch

    from trust_core.attacks.diversity import input_diversity
    from trust_core.attacks.transforms import gaussian

    choice = int(torch.randint(0, 5, (), generator=generator))
    if choice == 1:
        x = shared_crop(x, _uniform(PHOTO_SCALE, generator), int(torch.randint(50, 91, (), generator=generator)))
    elif choice == 2:
        x = shared_crop(x, _uniform(SHARED_SCALE, generator))
    elif choice == 3:
        x = gaussian(x, 0.5 + 0.5 * float(torch.rand((), generator=generator)))
    elif choice == 4:
        x = shared_crop(x, _uniform(SHARED_SCALE, generator), 75)
    return input_diversity(x, prob=0.5, scale=1.1, generator=generator)


class Objective:
    """Mean cosine of the protected (and shared) crops to their clean and other-photo embeddings: lower protects more."""

    def __init__(self, faces: FaceSet, *, device: str = "cpu") -> None:
        from trust_core.faces.recognizers import get_recognizer

        self.faces, self.device = faces, device
        self.teacher = get_recognizer("facenet-casia")
        self.teacher.module.to(device)
        self.threshold = self.teacher.threshold
        for p in self.teacher.module.parameters():
            p.requires_grad_(False)

    def batch(self, idx: np.ndarray, *, method_slot: np.ndarray | None = None):  # noqa: ANN201
        import torch

        slot = np.zeros(len(idx), int) if method_slot is None else method_slot
        arrays = (self.faces.crops[idx].astype(np.float32) / 255, self.faces.signals[idx, slot].astype(np.float32) / 127,
                  self.faces.clean[idx], self.faces.others[idx])
        return tuple(torch.from_numpy(a).to(self.device) for a in arrays)

    def protected(self, filt, crops, unit_signals, eps, *, masked=None, use_signal: bool = True,  # noqa: ANN001, ANN201
                  **rows):  # noqa: ANN003
        """The protected 160-px crops; ``masked`` (bool per face): the filter under the crop's texture mask, as the
        device applies it; ``use_signal=False`` feeds a zero signal (û alone)."""
        import torch
        import torch.nn.functional as F

        from cloud_enhancer.model import protect
        from edge_probe.masking import texture_mask

        s = filt(unit_signals * (eps.view(-1, 1, 1, 1) if use_signal else 0), eps, **rows)
        s = F.interpolate(s, size=crops.shape[-2:], mode="bilinear", align_corners=False)
        if masked is not None and bool(masked.any()):
            weights = torch.from_numpy(texture_mask(crops.detach().cpu().numpy())).to(crops.device)
            s = s * torch.where(masked.view(-1, 1, 1, 1).to(crops.device), weights, torch.ones_like(weights))
        return protect(crops, s)

    def similarities(self, protected, clean, others):  # noqa: ANN001, ANN201
        emb = self.teacher.module(protected)
        return self.teacher.similarity(emb, clean), self.teacher.similarity(emb, others)


def dodging_loss(to_self, to_others, *, threshold: float, margin: float | None = None):  # noqa: ANN001, ANN201
    """The training objective on the cosines to the clean and the other photos' embeddings: their mean, or with
    ``margin`` the mean hinge max(0, cos − (threshold − margin)) (zero once every face is unmatched by ``margin``)."""
    if margin is None:
        return (to_self + to_others).mean() / 2
    floor = threshold - margin
    return ((to_self - floor).clamp_min(0) + (to_others - floor).clamp_min(0)).mean() / 2


def _draw_budgets(n: int, rng: np.random.Generator, masked_share: float):  # noqa: ANN202
    """Per face: the L∞ budget of a preset drawn by :data:`PRESET_WEIGHTS`, and whether it is masked."""
    import torch

    from edge_probe.masking import STRENGTHS

    presets = rng.choice(list(PRESET_WEIGHTS), size=n, p=list(PRESET_WEIGHTS.values()))
    masked = rng.random(n) < masked_share
    eps = [STRENGTHS[name].eps(masking=bool(m)) for name, m in zip(presets, masked, strict=True)]
    return torch.tensor(eps, dtype=torch.float32), torch.from_numpy(masked)


def validation_budgets() -> dict[str, tuple[float, bool]]:
    """The budgets checkpoints are validated at: mid without the mask (the APF table's 8/255) and under it."""
    from edge_probe.masking import STRENGTHS

    mid = STRENGTHS["mid"]
    return {"": (mid.uniform, False), "masked_": (mid.masked, True)}


def validate(objective: Objective, filt, *, batch: int = 64, rows: dict | None = None,  # noqa: ANN001
             budgets: dict[str, tuple[float, bool]] | None = None) -> dict:
    """Fraction of validation faces still matched to the person's other photos (and mean cosines), FGSM and
    iterative signals alike, as saved and after the sharing check (a 0.5× photo resize, then JPEG q75), at each
    of ``budgets`` (prefix -> (eps, masked); default :func:`validation_budgets`): one pass."""
    import torch

    filt.eval()
    budgets = budgets or validation_budgets()
    sharings = {"": lambda x: x, "shared_": lambda x: shared_crop(x, VALIDATION_SHARE_SCALE, 75)}
    views = [prefix + shared for prefix in budgets for shared in sharings]
    matched, sims = {v: [] for v in views}, {v: [] for v in views}
    n = len(objective.faces)
    with torch.no_grad():
        for slot in (0, 1):
            for i in range(0, n, batch):
                idx = np.arange(i, min(i + batch, n))
                crops, g, clean, others = objective.batch(idx, method_slot=np.full(len(idx), slot))
                for prefix, (eps, masked) in budgets.items():
                    x = objective.protected(filt, crops, g, torch.full((len(idx),), eps, device=crops.device),
                                            masked=torch.full((len(idx),), masked), **(rows or {}))
                    for shared, seen_as in sharings.items():
                        _, to_others = objective.similarities(seen_as(x), clean, others)
                        matched[prefix + shared].append((to_others >= objective.threshold).float())
                        sims[prefix + shared].append(to_others)
    filt.train()
    return {f"{view}{key}": round(float(torch.cat(values[view]).mean()), 4)
            for view in matched for key, values in (("still_matched", matched), ("cosine", sims))}


def _rank(score: dict) -> tuple[float, float]:
    """Checkpoints compare by the match rates summed over every validated view, then by the mean cosines."""
    return (sum(v for k, v in score.items() if k.endswith("still_matched")),
            sum(v for k, v in score.items() if k.endswith("cosine")))


def fit(filt, train: Objective, val: Objective, *, steps: int, lr: float, batch: int, params, label: str,  # noqa: ANN001
        rows: dict, validate_every: int, seed: int, progress: bool, minutes: float | None = None,
        margin: float | None = None, masked_share: float = 0.0) -> tuple[dict, list]:
    """Adam on ``params`` for ``steps`` steps (or ``minutes``) on :func:`dodging_loss`, a ``masked_share`` of the
    faces under the texture mask; keeps the state (the starting one included) with the lowest validation match
    rate, summed over :func:`validate`'s views."""
    import torch

    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    best, best_state, history = None, None, []
    deadline = time.time() + minutes * 60 if minutes else float("inf")
    start = time.time()

    def checkpoint(step: int, loss: float | None) -> None:
        nonlocal best, best_state
        score = validate(val, filt, rows=rows)
        history.append({"step": step, "loss": loss, **score, "seconds": round(time.time() - start)})
        if progress:
            click.echo(f"[{label}] step {step} loss {loss} val {score} ({time.time() - start:.0f} s)", err=True)
        if best is None or _rank(score) < _rank(best):
            best, best_state = {**score, "step": step}, copy.deepcopy(filt.state_dict())

    checkpoint(0, None)
    filt.train()
    for step in range(1, steps + 1):
        idx = rng.choice(len(train.faces), size=batch, replace=False)
        crops, g, clean, others = train.batch(idx, method_slot=rng.integers(0, 2, size=batch))
        eps, masked = _draw_budgets(batch, rng, masked_share)
        x = sharing(train.protected(filt, crops, g, eps.to(crops.device), masked=masked, **rows), generator=gen)
        to_self, to_others = train.similarities(x, clean, others)
        loss = dodging_loss(to_self, to_others, threshold=train.threshold, margin=margin)
        opt.zero_grad()
        loss.backward()
        opt.step()
        last = step == steps or time.time() >= deadline
        if step % validate_every == 0 or last:
            checkpoint(step, round(loss.item(), 4))
        if last:
            break
    filt.load_state_dict(best_state)
    return best, history


def lineage(init: Path) -> dict:
    """The starting weights' sha256 and, when the manifest still records them, how they were trained."""
    from trust_core.models.registry import read_manifest, sha256_of

    sha = sha256_of(init)
    parent = next((e for e in read_manifest("cloud_enhancer").values() if e.sha256 == sha), None)
    return {"sha256": sha, **({"command": parent.command, "metrics": parent.metrics} if parent else {})}


@click.command(name="enhancer")
@click.option("--faces", type=int, default=2400, show_default=True, help="Training + validation photos.")
@click.option("--universal-steps", type=int, default=120, show_default=True, help="Steps of û alone.")
@click.option("--transfer-steps", type=int, default=600, show_default=True, help="Steps of T (with û).")
@click.option("--minutes", type=float, default=60.0, show_default=True, help="Time budget of T's training.")
@click.option("--batch", type=int, default=24, show_default=True)
@click.option("--no-universal-init", is_flag=True, help="Start T with û = 0 (the convergence baseline).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Weights folder (default: cloud_enhancer/weights).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Also write the metrics here.")
@click.option("--init", "init", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Continue from these APFFilter weights (e.g. the shipped ones) instead of starting afresh.")
@click.option("--probe", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="Learn from the signals of the probe trained into this folder (apf train probe --out DIR); "
                   "the weights then go to --out only.")
@click.option("--margin", type=float, default=None,
              help="Hinge objective: push only cosines above the recognizer's threshold minus this (default: mean cosine).")
@click.option("--masked-share", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Share of the training faces protected under the texture mask, at their preset's masked budget.")
def cli(faces: int, universal_steps: int, transfer_steps: int, minutes: float, batch: int, no_universal_init: bool,
        out: Path | None, seed: int, json_out: Path | None, init: Path | None, probe: Path | None,
        margin: float | None, masked_share: float) -> None:
    """Train û, then T from û, on CelebA-10k + LFW non-pair identities against FaceNet-CASIA; save and record."""
    import torch

    from cloud_enhancer.model import APFFilter

    if probe is not None and out is None:
        raise click.UsageError("--probe needs --out: the shipped enhancer learns from the shipped probe's signals")
    torch.manual_seed(seed)
    t0 = time.time()
    train_rows, val_rows = split_identities(training_identities(), faces=faces, seed=seed)
    train_set, val_set = build_faces(train_rows, probe=probe), build_faces(val_rows, probe=probe)
    prep = time.time() - t0
    click.echo(f"{len(train_set)} training / {len(val_set)} validation faces ready in {prep:.0f} s", err=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train, val = Objective(train_set, device=device), Objective(val_set, device=device)
    filt = APFFilter()
    metrics: dict = {"train_faces": len(train_set), "val_faces": len(val_set), "prepare_seconds": round(prep),
                     "objective": "mean cosine" if margin is None else f"hinge, margin {margin:g}"}
    if init is not None:
        filt.load_state_dict(torch.load(init, map_location="cpu", weights_only=True))
        metrics["init"] = lineage(init)
    filt = filt.to(device)
    common = dict(batch=batch, validate_every=30, seed=seed, progress=True, margin=margin, masked_share=masked_share)
    if not no_universal_init and universal_steps:
        t1 = time.time()
        best_u, hist_u = fit(filt, train, val, steps=universal_steps, lr=0.01, params=filt.universal.parameters(),
                             label="universal", rows={"use_transfer": False, "use_signal": False}, **common)
        metrics["universal"] = {"best": best_u, "history": hist_u, "seconds": round(time.time() - t1),
                                "alpha": round(filt.universal.scale.item(), 4)}
    t2 = time.time()
    best_t, hist_t = fit(filt, train, val, steps=transfer_steps, lr=1e-3, params=filt.parameters(), label="transfer",
                         rows={}, minutes=minutes, **common)
    metrics["transfer"] = {"best": best_t, "history": hist_t, "seconds": round(time.time() - t2)}
    metrics["alpha"] = round(filt.universal.scale.item(), 4)
    metrics["total_seconds"] = round(time.time() - t0)
    parent = metrics.get("init", {}).get("metrics", {})
    metrics["cumulative_seconds"] = metrics["total_seconds"] + parent.get("cumulative_seconds", parent.get("total_seconds", 0))
    metrics["device"] = device if device == "cpu" else torch.cuda.get_device_name()
    metrics["threads"] = torch.get_num_threads()
    from cloud_enhancer.enhancer import WEIGHTS_NAME
    from trust_core.models.registry import record

    folder = out or Path(__file__).resolve().parent / "weights"
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{WEIGHTS_NAME}{'-scratch' if no_universal_init else ''}.pt"
    torch.save({k: v.cpu() for k, v in filt.state_dict().items()}, file)
    command = ("apf train enhancer" + f" --faces {faces} --universal-steps {universal_steps} --transfer-steps "
               f"{transfer_steps} --minutes {minutes:g} --batch {batch}" + (" --no-universal-init" if no_universal_init else "")
               + (f" --init {init.name}" if init else "") + (f" --probe {probe}" if probe else "")
               + (f" --margin {margin:g}" if margin is not None else "") + f" --masked-share {masked_share:g}")
    data = (f"{faces} photos of CelebA-10k identities with 2+ photos and LFW people absent from pairs.txt (seed {seed}), "
            "a tenth of the identities held out for checkpoint selection; teacher FaceNet-CASIA, probe signals at 8/255")
    if out is None and not no_universal_init:
        record("cloud_enhancer", WEIGHTS_NAME, file, command=command, data=data, metrics=metrics,
               notes="APFFilter state_dict: TransferUNet (transfer.*) and UniversalPerturbation (universal.*)"
               + ("; continued from the weights in metrics.init" if init else ""))
    if json_out:
        json_out.write_text(json.dumps(metrics, indent=1))
    click.echo(json.dumps({k: v for k, v in metrics.items() if k not in ("universal", "transfer")}, indent=1))
