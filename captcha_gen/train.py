"""``apf train breakers``: train the CAPTCHA breakers on freshly generated CAPTCHAs of all three levels.

Training images come from the "train" seeds, checkpoints are chosen on the "val" seeds, and the "test" seeds
are only measured (see :data:`captcha_gen.levels.SPLIT_OFFSETS`). Each batch goes through a random attacker
pipeline (:func:`captcha_gen.transforms.random_preprocess`) so the breakers read preprocessed CAPTCHAs too.
"""
from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import click

from captcha_gen.levels import LEVELS


def images_tensor(images) -> "torch.Tensor":  # noqa: F821 - torch imported lazily
    import torch

    return torch.from_numpy(images).float().div_(255).unsqueeze(1)


def level_set(level_name: str, *, split: str, n: int, start: int = 0) -> tuple["torch.Tensor", list[str]]:  # noqa: F821
    """``n`` CAPTCHAs of a split as a float tensor ``(n, 1, H, W)`` and their answers."""
    from captcha_gen.render import batch

    images, texts = batch(level_name, split=split, start=start, n=n)
    return images_tensor(images), texts


def accuracy(model, images, texts: list[str]) -> float:
    """Whole-string accuracy (case-insensitive)."""
    from captcha_gen.breakers import read

    predictions = read(model, images)
    return sum(p == t.upper() for p, t in zip(predictions, texts)) / max(1, len(texts))


def training_data(*, train_per_level: int, val_per_level: int) -> tuple[tuple, dict]:
    """Training images and encoded answers of all levels, and the per-level validation sets."""
    import torch

    from captcha_gen.breakers import encode

    data = [level_set(lv, split="train", n=train_per_level) for lv in LEVELS]
    train = (torch.cat([d[0] for d in data]), encode([t for d in data for t in d[1]]))
    return train, {lv: level_set(lv, split="val", n=val_per_level) for lv in LEVELS}


def fit(model: "torch.nn.Module", train: tuple, val: dict, *, minutes: float, batch: int = 64, lr: float = 2e-3,  # noqa: F821
        augment: float = 0.25, seed: int = 0, log=print) -> dict[str, float]:
    """Train ``model`` for at most ``minutes`` on ``train`` = (images, encoded answers); keep the weights best on
    ``val`` (level -> (images, answers)) and return their validation accuracies. The model ends in eval mode."""
    import torch

    from captcha_gen.breakers import string_loss
    from captcha_gen.transforms import random_preprocess

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    x, y = train
    name = type(model).__name__
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    deadline = time.monotonic() + 60 * minutes
    best, best_score, best_val, step = copy.deepcopy(model.state_dict()), -1.0, {}, 0
    while time.monotonic() < deadline:
        order = torch.randperm(x.shape[0], generator=generator)
        for i in range(0, len(order) - batch + 1, batch):
            idx = order[i : i + batch]
            # anneal the learning rate with the remaining time budget
            left = max(0.0, (deadline - time.monotonic()) / (60 * minutes))
            for group in opt.param_groups:
                group["lr"] = lr * max(0.05, left)
            model.train()
            with torch.no_grad():
                inputs = random_preprocess(x[idx], prob=augment, generator=generator)
            loss = string_loss(model.kind, model(inputs), y[idx]).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            step += 1
            last = time.monotonic() >= deadline
            if step % 250 == 0 or last:
                scores = {lv: accuracy(model, *data) for lv, data in val.items()}
                score = sum(scores.values()) / len(scores)
                log(f"{name} step {step} loss {loss.item():.3f} val {json.dumps(scores)}")
                if score > best_score:
                    best, best_score, best_val = copy.deepcopy(model.state_dict()), score, scores
            if last:
                break
    model.load_state_dict(best)
    model.eval()
    return best_val


@click.command()
@click.option("--arch", "archs", multiple=True, default=("crnn", "multihead", "convctc"), show_default=True,
              help="Breaker architectures to train (repeat).")
@click.option("--train-per-level", default=20000, show_default=True, help="Training CAPTCHAs per level.")
@click.option("--val-per-level", default=300, show_default=True, help="Validation CAPTCHAs per level (checkpoint choice).")
@click.option("--test-per-level", default=500, show_default=True, help="Test CAPTCHAs per level (reported only).")
@click.option("--minutes", default=8.0, show_default=True, help="Training time budget per architecture.")
@click.option("--augment", default=0.25, show_default=True, help="Probability of each attacker transform in training.")
@click.option("--resume", is_flag=True, help="Fine-tune the shipped weights instead of starting afresh (lr / 4).")
@click.option("--threads", default=1, show_default=True, help="torch CPU threads.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Weights folder (default: captcha_gen/weights).")
def cli(archs: tuple[str, ...], train_per_level: int, val_per_level: int, test_per_level: int, minutes: float,
        augment: float, resume: bool, threads: int, out: Path | None) -> None:
    """Train the CAPTCHA breakers and record their weights in the registry."""
    import torch

    from captcha_gen.breakers import ARCHITECTURES, build, load_breaker
    from trust_core.models.registry import record

    for arch in archs:
        if arch not in ARCHITECTURES:
            raise click.BadParameter(f"unknown breaker {arch!r}; choose from {', '.join(ARCHITECTURES)}")
    torch.set_num_threads(threads)
    folder = out or Path(__file__).parent / "weights"
    folder.mkdir(parents=True, exist_ok=True)
    train, valset = training_data(train_per_level=train_per_level, val_per_level=val_per_level)
    test = {lv: level_set(lv, split="test", n=test_per_level) for lv in LEVELS}
    for arch in archs:
        model = load_breaker(arch) if resume else build(arch)
        val = fit(model, train, valset, minutes=minutes, lr=5e-4 if resume else 2e-3, augment=augment, log=lambda m: click.echo(m, err=True))
        metrics = {f"val_{lv}": round(a, 4) for lv, a in val.items()}
        metrics.update({f"test_{lv}": round(accuracy(model, *test[lv]), 4) for lv in LEVELS})
        file = folder / f"captcha_{arch}.pt"
        torch.save(model.state_dict(), file)
        if out is None:
            record("captcha_gen", f"captcha_{arch}", file,
                   command=f"apf train breakers --arch {arch} --train-per-level {train_per_level} --minutes {minutes} --augment {augment}"
                           + (" --resume (after the same command without it)" if resume else ""),
                   data=f"captcha_gen.render, levels {'/'.join(LEVELS)}, train seeds 0..{train_per_level - 1}, "
                        f"val seeds (checkpoint choice), {test_per_level} test seeds per level (reported only)",
                   metrics=metrics, notes="whole-string accuracy on clean CAPTCHAs")
        click.echo(json.dumps({arch: metrics}))
