"""The privacy experiments on real data: membership inference vs overfitting, DP-SGD accuracy and membership AUC
vs ε, randomized response / Laplace error vs theory, DLG/iDLG on MNIST and MI-FACE on AT&T faces."""
from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn

from trust_core.data import mnist_tensors
from trust_core.models.train_mnist import evaluate, fit

#: Opacus's published MNIST results (README, SampleConvNet): ε -> test accuracy.
OPACUS_PUBLISHED = {math.inf: 0.9894, 6.86: 0.9709, 2.91: 0.9678, 1.16: 0.9463}


def mlp() -> nn.Module:
    """The membership experiments' target/shadow architecture: 784-256-10."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def membership_vs_overfitting(
    *, epochs: tuple[int, ...] = (2, 10, 50), members: int = 250, shadows: int = 4, seed: int = 0,
) -> list[dict[str, float]]:
    """Yeom and Shokri attacks on an MLP trained for more and more epochs on ``members`` MNIST images."""
    from trust_core.privacy.membership import ShadowAttack, loss_attack

    x, y = mnist_tensors("train", limit=2 * members + 2 * members * shadows)
    inside, outside = (x[:members], y[:members]), (x[members : 2 * members], y[members : 2 * members])
    shadow_data = (x[2 * members :], y[2 * members :])
    rows = []
    for e in epochs:
        def train(images: torch.Tensor, labels: torch.Tensor, s: int, e: int = e) -> nn.Module:
            torch.manual_seed(s)
            return fit(mlp(), images, labels, epochs=e, batch=32, seed=s)

        target = train(*inside, seed)
        yeom = loss_attack(target, inside, outside).as_dict()
        shokri = ShadowAttack(train, shadow_data, shadows=shadows, size=members, seed=seed)(target, inside, outside)
        rows.append({
            "epochs": e, "train_acc": round(evaluate(target, *inside), 4),
            "test_acc": round(evaluate(target, *outside), 4),
            "yeom_auc": yeom["auc"], "yeom_tpr@0.1%fpr": yeom["tpr@0.001fpr"],
            "shokri_auc": round(shokri.auc, 4), "shokri_tpr@0.1%fpr": round(shokri.tpr_at_low_fpr, 4),
        })
    return rows


def dp_sgd_table(
    *, epsilons: tuple[float | None, ...] = (None, 7.0, 3.0, 1.0), epochs: int = 15, train_limit: int | None = None,
    activation: str = "tanh", batch: int = 240, lr: float = 0.5, max_grad_norm: float = 1.0,
    membership_images: int = 10_000, seed: int = 0,
) -> list[dict[str, float | str]]:
    """DP-SGD (Opacus, Poisson sampling at rate ``batch``/60,000, noise calibrated by the RDP accountant to each ε
    at δ = 1e-5 for ``epochs``) on MNIST train with Opacus's SampleConvNet: test accuracy per ε next to Opacus's
    published figure for the nearest published ε, and the loss-threshold membership AUC (Yeom) of the trained model
    on ``membership_images`` training vs as many test images. Defaults: tanh (Papernot et al., AAAI 2021) and a
    learning rate of 0.5 at clipping norm 1 (the best of four settings in a 5-epoch sweep at ε = 3)."""
    from trust_core.privacy.dp import SampleConvNet, dp_sgd_fit
    from trust_core.privacy.membership import loss_attack

    x, y = mnist_tensors("train", limit=train_limit)
    x_test, y_test = mnist_tensors("test")
    k = min(membership_images, len(x), len(x_test))
    rows = []
    for eps in epsilons:
        start = time.perf_counter()
        model, spent = dp_sgd_fit(SampleConvNet(activation=activation), x, y, target_epsilon=eps, epochs=epochs,
                                  batch=batch, lr=lr, max_grad_norm=max_grad_norm, seed=seed)
        seconds = time.perf_counter() - start
        nearest = math.inf if eps is None else min(filter(math.isfinite, OPACUS_PUBLISHED), key=lambda p: abs(p - eps))
        rows.append({
            "target_eps": "inf" if eps is None else eps, "spent_eps": "inf" if math.isinf(spent) else round(spent, 3),
            "epochs": epochs, "activation": activation, "batch": batch, "lr": lr, "clip": max_grad_norm,
            "train_images": len(x), "test_acc": round(evaluate(model, x_test, y_test), 4),
            "opacus_published_eps": "inf" if math.isinf(nearest) else nearest,
            "opacus_published_acc": OPACUS_PUBLISHED[nearest],
            "yeom_auc": round(loss_attack(model, (x[:k], y[:k]), (x_test[:k], y_test[:k])).auc, 4),
            "seconds": round(seconds, 1),
        })
    return rows


def dp_membership(
    *, epsilons: tuple[float | None, ...] = (None, 7.0, 3.0, 1.0), members: int = 500, epochs: int = 30, seed: int = 0,
) -> list[dict[str, float | str]]:
    """Loss-threshold membership AUC of an MLP trained on ``members`` MNIST images, without and with DP-SGD."""
    from trust_core.privacy.dp import dp_sgd_fit
    from trust_core.privacy.membership import loss_attack

    x, y = mnist_tensors("train", limit=2 * members)
    inside, outside = (x[:members], y[:members]), (x[members:], y[members:])
    rows = []
    for eps in epsilons:
        torch.manual_seed(seed)
        model, spent = dp_sgd_fit(mlp(), *inside, target_epsilon=eps, epochs=epochs, batch=32, lr=0.1, seed=seed)
        result = loss_attack(model, inside, outside)
        rows.append({
            "target_eps": "inf" if eps is None else eps, "spent_eps": "inf" if math.isinf(spent) else round(spent, 3),
            "train_acc": round(evaluate(model, *inside), 4), "test_acc": round(evaluate(model, *outside), 4),
            "yeom_auc": round(result.auc, 4),
        })
    return rows


def randomized_response_table(
    *, p: float = 0.3, n: int = 10_000, trials: int = 500, seed: int = 0,
) -> dict[str, float]:
    """Randomized response over ``trials`` surveys and the Laplace count/mean: measured bias and error vs theory."""
    from trust_core.privacy.dp import estimate_proportion, laplace_scale, private_count, randomized_response, \
        randomized_response_std

    rng = np.random.default_rng(seed)
    truth = rng.random(n) < p
    estimates = np.array([estimate_proportion(randomized_response(truth, seed=rng)) for _ in range(trials)])
    surveys = np.array([estimate_proportion(randomized_response(rng.random(n) < p, seed=rng)) for _ in range(trials)])
    counts = np.array([private_count(truth, epsilon=0.5, seed=rng) for _ in range(trials)])
    b = laplace_scale(sensitivity=1.0, epsilon=0.5)
    return {
        "rr_p": p, "rr_true_rate_fixed_people": round(float(truth.mean()), 4),
        "rr_mean_estimate": round(float(estimates.mean()), 4),
        "rr_std_fixed_people": round(float(estimates.std()), 5),
        "rr_std_fixed_people_theory": round(randomized_response_std(p, n, fixed_population=True), 5),
        "rr_mean_estimate_new_people": round(float(surveys.mean()), 4),
        "rr_std_new_people": round(float(surveys.std()), 5),
        "rr_std_new_people_theory": round(randomized_response_std(p, n), 5),
        "laplace_eps": 0.5, "laplace_mean_error": round(float((counts - truth.sum()).mean()), 3),
        "laplace_mae": round(float(np.abs(counts - truth.sum()).mean()), 3), "laplace_mae_theory": b,
    }


def leakage_table(*, images: int = 5, steps: int = 300, seed: int = 0) -> list[dict[str, float]]:
    """iDLG on the first MNIST test images through DLG's sigmoid LeNet: SSIM of each reconstruction."""
    from skimage.metrics import structural_similarity

    from trust_core.privacy.leakage import LeakyLeNet, reconstruct, shared_gradient

    x, y = mnist_tensors("test", limit=images)
    model = LeakyLeNet(seed=seed)
    rows = []
    for i in range(images):
        gradient = shared_gradient(model, x[i : i + 1], y[i : i + 1])
        recovered, label = reconstruct(model, gradient, tuple(x.shape[1:]), steps=steps, seed=seed)
        ssim = structural_similarity(x[i, 0].numpy(), recovered[0, 0].numpy(), data_range=1.0)
        rows.append({"image": i, "label": int(y[i]), "inferred_label": label, "ssim": round(float(ssim), 4)})
    return rows


def inversion_table(*, steps: int = 1000, seed: int = 0) -> dict[str, float]:
    """MI-FACE against a softmax-regression face classifier on AT&T faces (7 images per person for training, 3
    held out): how often two recognizers name the reconstructed person — 1-nearest-neighbour over the held-out
    photos (cosine of centred pixels) and a separately trained MLP classifier (other architecture and seed)."""
    from trust_core.data import load_att_faces
    from trust_core.privacy.inversion import SoftmaxRegression, mi_face

    torch.manual_seed(seed)
    x, y = load_att_faces()
    train = (torch.arange(len(x)) % 10) < 7
    classifier = fit(SoftmaxRegression(x[0].numel(), 40), x[train], y[train], epochs=60, batch=32, seed=seed)
    reconstructions = [mi_face(classifier, person, tuple(x.shape[1:]), steps=steps) for person in range(40)]
    matched, top5 = match_reconstructions(reconstructions, x[~train], y[~train])
    torch.manual_seed(seed + 1)
    recognizer = fit(nn.Sequential(nn.Flatten(), nn.Linear(x[0].numel(), 128), nn.ReLU(), nn.Linear(128, 40)),
                     x[train], y[train], epochs=60, batch=32, seed=seed + 1)
    with torch.no_grad():
        mlp_hits = (recognizer(torch.cat(reconstructions)).argmax(1) == torch.arange(40)).float().mean().item()
    return {
        "people": 40, "classifier_test_acc": round(evaluate(classifier, x[~train], y[~train]), 4),
        "nn_recognizer_top1": round(matched, 4), "nn_recognizer_top5": round(top5, 4),
        "mlp_recognizer_test_acc": round(evaluate(recognizer, x[~train], y[~train]), 4),
        "mlp_recognizer_top1": round(mlp_hits, 4), "chance": 1 / 40,
    }


def match_reconstructions(
    reconstructions: list[torch.Tensor], gallery: torch.Tensor, gallery_labels: torch.Tensor,
) -> tuple[float, float]:
    """Top-1 and top-5 rate at which reconstruction i's nearest gallery photos (cosine of centred pixels) show
    person i."""
    def unit(v: torch.Tensor) -> torch.Tensor:
        v = v.flatten(1)
        v = v - v.mean(1, keepdim=True)
        return v / v.norm(dim=1, keepdim=True).clamp_min(1e-12)

    similarity = unit(torch.cat(reconstructions)) @ unit(gallery).T  # (people, gallery)
    top1 = top5 = 0
    for person, row in enumerate(similarity):
        ranked = list(dict.fromkeys(gallery_labels[row.argsort(descending=True)].tolist()))
        top1 += ranked[0] == person
        top5 += person in ranked[:5]
    return top1 / len(similarity), top5 / len(similarity)
