"""``apf train probe``: distil the probe from FaceNet-CASIA embeddings (no identity labels).

Knowledge distillation of the embedding (Hinton et al., 2015; embedding-level as in "Improving Face Recognition
from Hard Samples via Distribution Distillation", and MobileFaceNet practice): loss = 1 − cos(probe(x), teacher(x)),
plus, with ``relational_weight``, the squared gap between the probe's and the teacher's cosine matrices over the
batch (relational distillation, Park et al., CVPR 2019), which is what face verification reads. With ``augment``
the probe sees each face mirrored, slightly shifted, scaled and rotated, and recoloured (albumentations) against
the teacher's embedding of the plain face, which is nearly invariant to such changes. Both together, 60 min on
2 CPU cores: LFW 10-fold 89.18% (cosine to the teacher on LFW 0.629) vs 87.57% (0.612) for the shipped 45-min
run without them (docs/results/probe-augment-relational-60min.json). With ``scored_views`` the teacher also embeds
K such views of each face, so they train against exact targets; adding 2 to that recipe gave 88.90%, no better
(docs/results/probe-scored-views-60min.json). With ``gradient_faces`` the probe also learns the direction of the
teacher's FGSM gradient on those faces (:mod:`edge_probe.gradient_match`), the quantity APF sends. With ``arch``
"facenet-trunk" (:class:`~edge_probe.model.TrunkProbe`) only the head trains, on the frozen trunk's features of each
face, its mirror image and ``views`` augmented views, computed once (:func:`distil_trunk`).
Faces: CelebA-10k and the LFW images of people absent from pairs.txt (never an LFW pair image). Each photo gives
one crop through the teacher's own box alignment (``trust_core.faces.align.align_faces(method="box")``) around a
fixed central face box (LFW photos are centred; CelebA photos are aligned); the probe sees the teacher's 160-px crop
resized to 112 px. Teacher embeddings and crops are cached in the user cache, chunk by chunk, so an interrupted
run resumes. A held-out validation split selects the checkpoint.
"""
from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path

import click
import numpy as np

from edge_probe.model import WEIGHTS_NAME

TEACHER = "facenet-casia"
CHUNK = 256


def training_files(*, lfw_limit: int | None = None, celeba_limit: int | None = None, seed: int = 0) -> list[Path]:
    """LFW images of people not in pairs.txt, then CelebA-10k images, each shuffled with ``seed``."""
    from trust_core.data import LFW, CelebA

    lfw = LFW()
    banned = lfw.pair_images()
    lfw_files = sorted(p for paths in lfw.training_people().values() for p in paths if p not in banned)
    celeba_files = sorted(CelebA().paths())
    rng = np.random.default_rng(seed)
    rng.shuffle(lfw_files)
    rng.shuffle(celeba_files)
    return lfw_files[:lfw_limit] + celeba_files[:celeba_limit]


def teacher_crops(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """(teacher 160-px crops, probe 112-px crops) as float32 (N, 3, S, S) in [0, 1] for ``paths``."""
    from edge_probe.crops import CROP_SIZE, probe_view
    from trust_core.data.celeba import face_box
    from trust_core.faces.align import Face, align_faces
    from trust_core.faces.evaluate import lfw_fallback_face
    from trust_core.faces.io import load_image

    big, small = [], []
    for path in paths:
        image = load_image(path)
        if "celeba" in str(path).lower():
            face = Face.from_box(face_box(image.shape[1]))
        else:
            face = lfw_fallback_face(image.shape)
        big.append(align_faces(image, [face], size=CROP_SIZE, method="box").crops[0].numpy())
    big_arr = np.stack(big).astype(np.float32)
    return big_arr, probe_view(big_arr)


def _chunk_file(paths: list[Path], *, views: int = 0, kind: str = "") -> Path:
    """The cache file of a chunk's teacher embeddings (``views`` = 0), of its :func:`scored_view_set`, or of another
    ``kind`` of teacher target (e.g. :func:`gradient_set`'s)."""
    from trust_core.models.registry import cache_dir

    key = hashlib.sha256(("\n".join(str(p) for p in paths) + (f"|{views}" if views else "")).encode()).hexdigest()[:20]
    folder = cache_dir() / "probe-distill" / (f"{TEACHER}-views" if views else TEACHER + (f"-{kind}" if kind else ""))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.npz"


def _teacher_embed(teacher, faces: np.ndarray) -> np.ndarray:  # noqa: ANN001 - a Recognizer
    """The teacher's float32 embeddings of float (N, 3, 160, 160) crops, 32 at a time."""
    import torch

    with torch.no_grad():
        return torch.cat([teacher.embed(torch.from_numpy(faces[j:j + 32]))
                          for j in range(0, len(faces), 32)]).numpy().astype(np.float32)


def _cached_chunks(paths: list[Path], make, *, views: int = 0, kind: str = "", progress: bool = True,  # noqa: ANN001
                   max_chunks: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Crops and teacher targets of ``paths`` chunk by chunk: each chunk's ``make(teacher, chunk, index)`` is cached
    (written atomically, so an interrupted run resumes) and later runs read it back."""
    from trust_core.faces.recognizers import get_recognizer

    crops, embeddings, teacher = [], [], None
    chunks = [paths[i:i + CHUNK] for i in range(0, len(paths), CHUNK)][:max_chunks]
    for i, chunk in enumerate(chunks):
        file = _chunk_file(chunk, views=views, kind=kind)
        if not file.is_file():
            teacher = teacher or get_recognizer(TEACHER)
            small, emb = make(teacher, chunk, i)
            tmp = file.with_suffix(".tmp.npz")
            np.savez(tmp, crops=small, embeddings=emb)
            tmp.replace(file)
        if progress:
            what = f" ({views} views)" if views else f" ({kind})" if kind else ""
            click.echo(f"chunk {i + 1}/{len(chunks)}{what} ready ({file.name})", err=True)
        with np.load(file) as data:
            crops.append(data["crops"])
            embeddings.append(data["embeddings"])
    return np.concatenate(crops), np.concatenate(embeddings)


def distillation_set(paths: list[Path], *, progress: bool = True, max_chunks: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Probe crops (uint8 (N, 3, 112, 112)) and teacher embeddings (float32 (N, 512)), cached per chunk."""

    def make(teacher, chunk: list[Path], index: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
        big, small = teacher_crops(chunk)
        return np.rint(small * 255).astype(np.uint8), _teacher_embed(teacher, big)

    return _cached_chunks(paths, make, progress=progress, max_chunks=max_chunks)


def scored_view_set(paths: list[Path], views: int, *, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``views`` :func:`augmenter` views of every face's 160-px crop, each embedded by the teacher, as probe crops
    (uint8 (N, views, 3, 112, 112)) and embeddings (float32 (N, views, 512)); seeded and cached per chunk."""
    from edge_probe.crops import probe_view

    if views < 1:
        raise ValueError(f"views must be at least 1, got {views}")
    warp = augmenter()

    def make(teacher, chunk: list[Path], index: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
        big = np.rint(teacher_crops(chunk)[0] * 255).astype(np.uint8).transpose(0, 2, 3, 1)
        warp.set_random_seed(1000 + index)
        small, emb = [], []
        for _ in range(views):
            view = np.stack([warp(image=face)["image"] for face in big]).transpose(0, 3, 1, 2).astype(np.float32) / 255
            emb.append(_teacher_embed(teacher, view))
            small.append(np.rint(probe_view(view) * 255).astype(np.uint8))
        return np.stack(small, 1), np.stack(emb, 1)

    return _cached_chunks(paths, make, views=views, progress=progress)


def gradient_set(paths: list[Path], *, smooth: float = 0.0, progress: bool = True) -> np.ndarray:
    """The teacher's packed FGSM sign bits (uint8 (N, 4704)) for ``paths``, from
    :func:`edge_probe.gradient_match.teacher_gradient_signs` on their 160-px crops (blurred by ``smooth``); cached
    per chunk."""
    import torch

    from edge_probe.gradient_match import teacher_gradient_signs

    def make(teacher, chunk: list[Path], index: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
        big = teacher_crops(chunk)[0]
        signs = [teacher_gradient_signs(teacher.module, torch.from_numpy(big[j:j + 32]), smooth=smooth)
                 for j in range(0, len(big), 32)]
        return np.zeros((len(big), 0), np.uint8), np.concatenate(signs)

    return _cached_chunks(paths, make, kind=f"gradient{f'-s{smooth:g}' if smooth else ''}", progress=progress)[1]


def augmenter():  # noqa: ANN201 - albumentations.Compose
    """Training views of a face crop of any size: mirror, a small similarity warp, photometric jitter, some grey."""
    import albumentations as A
    import cv2

    return A.Compose([
        A.HorizontalFlip(p=0.5),
        A.Affine(scale=(0.93, 1.07), translate_percent=(-0.04, 0.04), rotate=(-8, 8), border_mode=cv2.BORDER_REFLECT_101,
                 p=0.8),
        A.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.02, p=0.8),
        A.ToGray(p=0.1),
    ])


def relational_loss(student, teacher):  # noqa: ANN001, ANN201 - torch tensors
    """Mean squared gap between the off-diagonal cosine similarities of the two sets of unit embeddings."""
    import torch

    gap = student @ student.T - teacher @ teacher.T
    off = ~torch.eye(len(student), dtype=torch.bool, device=student.device)
    return gap[off].pow(2).mean()


def distillation_loss(student, teacher, relational_weight: float = 0.0):  # noqa: ANN001, ANN201 - torch tensors
    """1 − cos(student, teacher) on average, plus ``relational_weight`` × :func:`relational_loss`."""
    import torch.nn.functional as F

    loss = (1 - F.cosine_similarity(student, teacher)).mean()
    return loss + relational_weight * relational_loss(student, teacher) if relational_weight else loss


def _split(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(held-out, training) indices of ``n`` faces: a seeded permutation, ``val_fraction`` of it held out."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(n * val_fraction))
    return order[:n_val], order[n_val:]


def learning_rate(elapsed: float, *, peak: float, warmup: float = 0.03) -> float:
    """Linear warm-up over the first ``warmup`` of the budget, then cosine decay to 0 at its end
    (``elapsed`` is the fraction of the budget spent): the schedule fits any machine's speed."""
    elapsed = min(max(elapsed, 0.0), 1.0)
    if elapsed < warmup:
        return peak * (0.1 + 0.9 * elapsed / warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * (elapsed - warmup) / (1 - warmup)))


def _train_on_budget(module, opt, train: np.ndarray, loss_of, validate, *, batch: int, lr: float, minutes: float,  # noqa: ANN001
                     steps: int | None, seed: int, score=lambda scores: scores[0],  # noqa: ANN001
                     describe=lambda scores: f"val cosine {scores[0]:.4f}", progress: bool = True):  # noqa: ANN001
    """The loop both distillations share: seeded epochs over ``train`` in batches, ``loss_of(indices)`` minimised by
    ``opt`` at :func:`learning_rate`'s schedule over ``minutes`` (or ``steps``, whichever runs out first), and
    ``validate()`` every 200 steps and at the end; ``module`` ends in the state with the best ``score(scores)``.
    Returns (that state's scores, steps taken, validation history)."""
    import copy

    start, budget = time.time(), minutes * 60
    best, best_scores, best_state, step, epoch, history = -math.inf, (), None, 0, 0, []
    spent = lambda: max((time.time() - start) / budget, step / steps if steps else 0.0)  # noqa: E731
    module.train()
    while spent() < 1:
        perm = train[np.random.default_rng(seed + epoch).permutation(len(train))]
        for i in range(0, len(perm) - batch + 1, batch):
            for group in opt.param_groups:
                group["lr"] = learning_rate(spent(), peak=lr)
            loss = loss_of(perm[i:i + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            done = spent() >= 1
            if step % 200 == 0 or done:
                scores = validate()
                history.append((step, *(round(v, 4) for v in scores)))
                if progress:
                    click.echo(f"step {step} epoch {epoch} loss {loss.item():.4f} {describe(scores)} "
                               f"({time.time() - start:.0f} s)", err=True)
                if score(scores) > best:
                    best, best_scores, best_state = score(scores), scores, copy.deepcopy(module.state_dict())
            if done:
                break
        epoch += 1
    module.load_state_dict(best_state)
    return best_scores, step, history


def distil(crops: np.ndarray, targets: np.ndarray, *, minutes: float, steps: int | None = None, batch: int = 64,
           lr: float = 2e-3, val_fraction: float = 0.05, seed: int = 0, augment: bool = False,
           relational_weight: float = 0.0, scored_views: tuple[np.ndarray, np.ndarray] | None = None,
           scale: float = 1.0, gradients: np.ndarray | None = None, gradient_weight: float = 1.0,
           gradient_batch: int = 16, init: dict | None = None, progress: bool = True):  # noqa: ANN201
    """Train a :class:`ProbeNet` on uint8 crops against teacher embeddings for ``minutes`` (or ``steps``, whichever
    budget runs out first; the schedule follows it); the checkpoint with the best validation cosine wins.
    Without ``augment`` half the faces are mirrored. ``scored_views`` (from :func:`scored_view_set`: (N, K, 3, 112,
    112) crops and (N, K, 512) embeddings) are K more views of each face with the teacher's own embedding of each;
    a training face is drawn as itself or one of its views at random (validation faces only as themselves).
    ``scale`` multiplies the probe's channels. ``gradients``: the teacher's packed FGSM signs of the first
    ``len(gradients)`` faces (:func:`gradient_set`); each step then also matches them on ``gradient_batch`` plain
    faces, weighted by ``gradient_weight``, and the checkpoint is chosen by the same weighted sum on held-out faces.
    ``init``: a state dict to start from. Returns (model in eval mode, metrics)."""
    import torch
    import torch.nn.functional as F

    from edge_probe.gradient_match import gradient_alignment, unpack_signs
    from edge_probe.model import ProbeNet
    from trust_core.models.wrappers import eval_mode

    torch.manual_seed(seed)
    val, train = _split(len(crops), val_fraction, seed)
    n_val = len(val)
    model = ProbeNet(scale=scale)
    if init is not None:
        model.load_state_dict(init)
    model = model.to(memory_format=torch.channels_last)  # about 25% faster on CPU
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    to_float = lambda faces: torch.from_numpy(faces).float().div_(255).contiguous(  # noqa: E731
        memory_format=torch.channels_last)
    as_float = lambda idx: to_float(crops[idx])  # noqa: E731

    matched = len(gradients) if gradients is not None else 0
    grad_train, grad_val = train[train < matched], val[val < matched]
    if gradients is not None and (len(grad_train) < gradient_batch or len(grad_val) == 0):
        raise ValueError(f"gradient targets for {matched} faces leave too few to train ({len(grad_train)}) or "
                         f"validate ({len(grad_val)}) on")

    def alignment(idx: np.ndarray, *, create_graph: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """On ``idx``'s plain faces, with batch norm in eval mode, as the device computes the signal."""
        with eval_mode(model):
            return gradient_alignment(model, as_float(idx), unpack_signs(gradients[idx]), create_graph=create_graph)

    def validate() -> tuple[float, ...]:
        """Held-out cosine to the teacher, and with gradient targets their gradient cosine and sign agreement."""
        model.eval()
        with torch.no_grad():
            sims = [F.cosine_similarity(model(as_float(val[i:i + 256])), torch.from_numpy(targets[val[i:i + 256]]))
                    for i in range(0, len(val), 256)]
        scores = [float(torch.cat(sims).mean())]
        if matched:
            parts = [alignment(grad_val[i:i + 64], create_graph=False) for i in range(0, len(grad_val), 64)]
            sizes = [len(grad_val[i:i + 64]) for i in range(0, len(grad_val), 64)]
            scores += [sum(float(p[k]) * n for p, n in zip(parts, sizes)) / len(grad_val) for k in (0, 1)]
        model.train()
        return tuple(scores)

    views = augmenter() if augment else None

    draw = np.random.default_rng(seed + 1)

    def training_batch(idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        faces, target = crops[idx], targets[idx]
        if scored_views is not None:
            which = draw.integers(0, scored_views[0].shape[1] + 1, len(idx))  # 0: the face itself
            view = np.maximum(which - 1, 0)
            faces = np.where((which > 0)[:, None, None, None], scored_views[0][idx, view], faces)
            target = np.where((which > 0)[:, None], scored_views[1][idx, view], target)
        if views is not None:
            faces = np.stack([views(image=face)["image"] for face in faces.transpose(0, 2, 3, 1)])
            return to_float(np.ascontiguousarray(faces.transpose(0, 3, 1, 2))), torch.from_numpy(target)
        x = to_float(faces)
        flip = torch.rand(len(x)) < 0.5  # mirror half the faces; the teacher's mirror embedding is close
        return torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x), torch.from_numpy(target)

    def loss_of(idx: np.ndarray):  # noqa: ANN202
        x, target = training_batch(idx)
        loss = distillation_loss(model(x), target, relational_weight)
        if matched:
            cosine, _ = alignment(draw.choice(grad_train, gradient_batch, replace=False), create_graph=True)
            loss = loss + gradient_weight * (1 - cosine)
        return loss

    best_scores, step, history = _train_on_budget(
        model, opt, train, loss_of, validate, batch=batch, lr=lr, minutes=minutes, steps=steps, seed=seed,
        score=lambda scores: scores[0] + gradient_weight * scores[1] if matched else scores[0],
        describe=lambda scores: f"val cosine {scores[0]:.4f}" + (
            f" gradient cosine {scores[1]:.4f} signs {scores[2]:.4f}" if matched else ""), progress=progress)
    model = model.to(memory_format=torch.contiguous_format).eval()
    gradient_metrics = {"gradient_faces": matched, "gradient_weight": gradient_weight,
                        "val_gradient_cosine": round(best_scores[1], 4),
                        "val_sign_agreement": round(best_scores[2], 4)} if matched else {}
    return model, {"val_cosine_to_teacher": round(best_scores[0], 4), **gradient_metrics, "steps": step, "epochs": round(step * batch / len(train), 2),
                   "batch": batch, "train_faces": int(len(train)), "val_faces": int(n_val), "minutes": minutes,
                   "augment": augment, "relational_weight": relational_weight, "scale": scale,
                   "scored_views": 0 if scored_views is None else int(scored_views[0].shape[1]), "history": history}


def trunk_features(model, crops: np.ndarray, *, views: int = 0, seed: int = 0, progress: bool = True):  # noqa: ANN001, ANN201
    """The frozen trunk's half-precision features of every face as (N, 2 + views, 256, 17, 17): the face, its mirror
    image, and ``views`` :func:`augmenter` views (seeded); ``model`` is a :class:`~edge_probe.model.TrunkProbe`."""
    import torch

    warp = augmenter() if views else None
    if warp is not None:
        warp.set_random_seed(seed)
    out = None
    with torch.no_grad():
        for i in range(0, len(crops), 128):
            faces = crops[i:i + 128]
            sets = [faces, faces[..., ::-1]] + [np.stack([warp(image=f)["image"] for f in faces.transpose(0, 2, 3, 1)])
                                                .transpose(0, 3, 1, 2) for _ in range(views)]
            block = torch.stack([model.features(torch.from_numpy(np.ascontiguousarray(v)).float().div_(255)).half()
                                 for v in sets], 1)
            if out is None:
                out = torch.empty((len(crops), *block.shape[1:]), dtype=torch.float16)
            out[i:i + len(faces)] = block
            if progress and (i // 128) % 10 == 0:
                click.echo(f"trunk features {i + len(faces)}/{len(crops)}", err=True)
    return out


def distil_trunk(crops: np.ndarray, targets: np.ndarray, *, minutes: float, steps: int | None = None, batch: int = 64,
                 lr: float = 2e-3, val_fraction: float = 0.05, seed: int = 0, views: int = 0,
                 relational_weight: float = 0.0, progress: bool = True):  # noqa: ANN201
    """Train a :class:`~edge_probe.model.TrunkProbe`'s head on the frozen trunk's features of uint8 crops (computed
    once by :func:`trunk_features`) against teacher embeddings, like :func:`distil`: the same schedule, loss and
    checkpoint choice by held-out cosine. Each training face is drawn as itself, its mirror image or one of its
    ``views`` augmented views, each against the teacher's embedding of the face. Returns (model in eval mode, metrics)."""
    import torch
    import torch.nn.functional as F

    from edge_probe.model import TrunkProbe
    from trust_core.faces.facenet_casia import facenet_casia_module

    torch.manual_seed(seed)
    val, train = _split(len(crops), val_fraction, seed)
    n_val = len(val)
    model = TrunkProbe().from_teacher(facenet_casia_module()[1])
    features = trunk_features(model, crops, views=views, seed=seed, progress=progress)
    head, target = model.head, torch.from_numpy(targets)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=5e-4)

    def validate() -> tuple[float]:
        head.eval()
        with torch.no_grad():
            sims = [F.cosine_similarity(head(features[val[i:i + 256], 0].float()), target[val[i:i + 256]])
                    for i in range(0, len(val), 256)]
        head.train()
        return (float(torch.cat(sims).mean()),)

    draw = np.random.default_rng(seed + 1)

    def loss_of(idx: np.ndarray):  # noqa: ANN202
        return distillation_loss(head(features[idx, draw.integers(0, features.shape[1], len(idx))].float()),
                                 target[idx], relational_weight)

    (best,), step, history = _train_on_budget(head, opt, train, loss_of, validate, batch=batch, lr=lr, minutes=minutes,
                                              steps=steps, seed=seed, progress=progress)
    return model.eval(), {"arch": "facenet-trunk", "val_cosine_to_teacher": round(best, 4), "steps": step,
                          "epochs": round(step * batch / len(train), 2), "batch": batch, "train_faces": int(len(train)),
                          "val_faces": int(n_val), "minutes": minutes, "views": views,
                          "relational_weight": relational_weight, "history": history}


def lfw_agreement(model, *, folds: tuple[int, ...] = tuple(range(10)), progress: bool = True) -> dict:  # noqa: ANN001
    """LFW verification accuracy of the probe and the teacher on the same fixed-box crops of the pairs of ``folds``
    (each fold's threshold chosen on the other folds, as in the 10-fold protocol), and their cosine agreement."""
    import torch
    import torch.nn.functional as F

    from trust_core.data import LFW

    pairs = [p for p in LFW().pairs() if p.fold in folds]
    files = sorted({p.first for p in pairs} | {p.second for p in pairs})
    crops, teacher = distillation_set(files, progress=progress)
    with torch.no_grad():
        probe = torch.cat([model(torch.from_numpy(crops[i:i + 128]).float().div(255)) for i in range(0, len(crops), 128)])
    teacher_t = torch.from_numpy(teacher)
    row = {f: i for i, f in enumerate(files)}
    first = torch.tensor([row[p.first] for p in pairs])
    second = torch.tensor([row[p.second] for p in pairs])
    same = np.array([p.same for p in pairs])
    fold = np.array([p.fold for p in pairs])
    out: dict = {"lfw_folds": list(folds), "lfw_pairs": len(pairs),
                 "cosine_to_teacher_lfw": round(float(F.cosine_similarity(probe, teacher_t).mean()), 4)}
    for name, emb in (("probe", probe), ("teacher", teacher_t)):
        sims = F.cosine_similarity(emb[first], emb[second]).numpy()
        accs = []
        for f in folds:
            train, test = fold != f, fold == f
            candidates = np.unique(sims[train])
            best = max(candidates, key=lambda t: np.mean((sims[train] >= t) == same[train]))
            accs.append(float(np.mean((sims[test] >= best) == same[test])))
        out[f"lfw_accuracy_{name}"] = round(float(np.mean(accs)), 4)
    return out


@click.command(name="probe")
@click.option("--lfw-limit", type=int, default=None, help="LFW training images to use (default: all).")
@click.option("--celeba-limit", type=int, default=None, help="CelebA images to use (default: all 10,000).")
@click.option("--prepare-only", is_flag=True, help="Only extract and cache the teacher embeddings.")
@click.option("--max-chunks", type=int, default=None, help="Use only the first chunks already cached / extracted.")
@click.option("--minutes", type=float, default=20.0, show_default=True, help="Training time budget.")
@click.option("--augment/--no-augment", default=False, show_default=True,
              help="Train on warped, recoloured views (else mirrored faces only).")
@click.option("--relational-weight", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Weight of the relational (cosine-matrix) loss; 0 turns it off.")
@click.option("--scored-views", type=click.IntRange(min=0), default=0, show_default=True,
              help="Augmented views of each face that the teacher embeds too (cached), drawn beside the face.")
@click.option("--arch", type=click.Choice(["mobilefacenet", "facenet-trunk"]), default="mobilefacenet", show_default=True,
              help="facenet-trunk: FaceNet-CASIA's frozen first layers under a distilled head (edge_probe.model).")
@click.option("--views", type=click.IntRange(min=0), default=0, show_default=True,
              help="facenet-trunk: augmented views of each face whose trunk features are drawn beside it.")
@click.option("--scale", type=click.FloatRange(min=0.25, max=4), default=1.0, show_default=True,
              help="Multiply the probe's channels (1: about 0.5 M parameters; 1.5: about 1 M).")
@click.option("--gradient-faces", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also match the teacher's FGSM gradient signs on the first N faces (edge_probe.gradient_match).")
@click.option("--gradient-weight", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Weight of the gradient-matching loss.")
@click.option("--gradient-smooth", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Blur the teacher's gradient (Gaussian sigma, pixels) before taking its signs.")
@click.option("--init", "init", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Start from these probe weights (e.g. the shipped ones) instead of afresh.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=2e-3, show_default=True,
              help="Peak learning rate (warm-up, then cosine decay over the budget).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Weights folder (default: edge_probe/weights).")
def cli(lfw_limit: int | None, celeba_limit: int | None, prepare_only: bool, max_chunks: int | None, minutes: float,
        augment: bool, relational_weight: float, scored_views: int, arch: str, views: int, scale: float,
        gradient_faces: int, gradient_weight: float, gradient_smooth: float, init: Path | None, lr: float,
        out: Path | None) -> None:
    """Distil the edge probe from FaceNet-CASIA embeddings on CelebA-10k + LFW non-pair images."""
    trunk = arch == "facenet-trunk"
    clash = [name for name, used in (("--augment", augment), ("--scored-views", scored_views), ("--scale", scale != 1),
                                     ("--gradient-faces", gradient_faces), ("--init", init)) if trunk and used]
    if clash or (views and not trunk):
        raise click.UsageError(f"{', '.join(clash)} apply to --arch mobilefacenet only" if clash else
                               "--views applies to --arch facenet-trunk only")
    paths = training_files(lfw_limit=lfw_limit, celeba_limit=celeba_limit)
    t0 = time.time()
    crops, emb = distillation_set(paths, max_chunks=max_chunks)
    scored = scored_view_set(paths[:len(crops)], scored_views) if scored_views else None
    gradients = gradient_set(paths[:min(gradient_faces, len(crops))], smooth=gradient_smooth) if gradient_faces else None
    click.echo(f"{len(crops)} distillation faces ready in {time.time() - t0:.0f} s", err=True)
    if prepare_only:
        return
    import torch

    from edge_probe.runtime import shipped_dir
    from trust_core.models.registry import sha256_of

    command = "apf train probe" + "".join(f" --{k.replace('_', '-')} {v}" for k, v in
                                          (("lfw_limit", lfw_limit), ("celeba_limit", celeba_limit),
                                           ("max_chunks", max_chunks), ("minutes", minutes)) if v is not None)
    command += " --augment" if augment else ""
    command += f" --relational-weight {relational_weight:g}" if relational_weight else ""
    command += f" --scored-views {scored_views}" if scored_views else ""
    command += f" --arch {arch}" if trunk else ""
    command += f" --views {views}" if views else ""
    command += f" --scale {scale:g}" if scale != 1 else ""
    command += f" --gradient-faces {gradient_faces} --gradient-weight {gradient_weight:g}" if gradient_faces else ""
    command += f" --gradient-smooth {gradient_smooth:g}" if gradient_faces and gradient_smooth else ""
    command += f" --init {init.name}" if init else ""
    command += f" --lr {lr:g}" if lr != 2e-3 else ""
    if trunk:
        model, metrics = distil_trunk(crops, emb, minutes=minutes, views=views, relational_weight=relational_weight,
                                      lr=lr)
    else:
        model, metrics = distil(crops, emb, minutes=minutes, augment=augment, relational_weight=relational_weight,
                                scored_views=scored, scale=scale, gradients=gradients, gradient_weight=gradient_weight,
                                lr=lr, init=torch.load(init, map_location="cpu", weights_only=True) if init else None)
    if init:
        metrics["init_sha256"] = sha256_of(init)
    if gradient_faces:
        metrics["gradient_smooth"] = gradient_smooth
    data = (f"{len(crops)} faces: LFW images of people not in pairs.txt and CelebA-10k (shuffled, seed 0); "
            "teacher FaceNet-CASIA on fixed-box 160-px crops")
    publish(model, metrics, out=out or shipped_dir(), command=command, data=data)


def publish(model, metrics: dict, *, out: Path, command: str, data: str) -> None:  # noqa: ANN001
    """Save the weights and the ONNX graphs into ``out``, measure LFW agreement, and record them in the shipped
    manifest — or, when ``out`` is another folder, in a manifest of its own there (the shipped one is left alone)."""
    import torch

    from edge_probe.export import export_graphs
    from edge_probe.runtime import shipped_dir
    from trust_core.models.registry import record

    out.mkdir(parents=True, exist_ok=True)
    file = out / f"{WEIGHTS_NAME}.pt"
    torch.save(model.state_dict(), file)
    graphs = export_graphs(model, out)
    metrics = {**metrics, "parameters": sum(p.numel() for p in model.parameters()),
               "onnx_bytes": {name: path.stat().st_size for name, path in graphs.items()},
               **lfw_agreement(model)}
    own = None if out.resolve() == shipped_dir().resolve() else out / "manifest.json"
    record("edge_probe", WEIGHTS_NAME, file, command=command, data=data, metrics=metrics, manifest=own,
           notes="ONNX graphs of the signal (embed.onnx, signal-step.onnx, signal-graphs.json) exported from "
                 "these weights by edge_probe.export.export_graphs")
    click.echo(f"saved {file}: {metrics}")
