"""``apf bench probe``: per-face latency of each signal method, torch vs onnxruntime, on real LFW faces."""
from __future__ import annotations

import json
import time
from pathlib import Path

import click


def lfw_crops(count: int):  # noqa: ANN201 - float32 (count, 3, 112, 112)
    """The probe's 112-px crops of the first ``count`` LFW pair images (evaluation faces; never trained on)."""
    from trust_core.data import LFW

    from edge_probe.train import teacher_crops

    pairs = LFW().pairs()
    return teacher_crops([p.first for p in pairs[:count]])[1]


@click.command(name="probe")
@click.option("--faces", type=int, default=5, show_default=True, help="LFW faces to time.")
@click.option("--threads", type=int, default=2, show_default=True, help="CPU threads for torch and onnxruntime.")
@click.option("--probe", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="a probe trained with apf train probe --out DIR (default: the shipped one)")
@click.option("--json", "json_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="write the figures to this JSON file")
def cli(faces: int, threads: int, probe: Path | None, json_out: Path | None) -> None:
    """Per-face latency (median ms) of FGSM, I-FGSM, MI-FGSM and DI²-FGSM, torch vs onnxruntime, with parity."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from edge_probe.model import load_probe
    from edge_probe.runtime import ProbeRuntime
    from edge_probe.signal import METHODS, compute_signal, reference_embeddings

    torch.set_num_threads(threads)
    crops = lfw_crops(faces)
    model, runtime = load_probe(probe), ProbeRuntime(probe, threads=threads)
    layout = channels_last(model)
    click.echo(f"{faces} LFW faces, {threads} threads, eps 8/255, 10 steps. Parity: sign agreement of the final "
               "signal, onnx vs torch, and (baseline) torch vs the same torch loop in channels-last layout;\n"
               "step parity: of each step's direction fed torch's state (mean; min over faces of a face's mean; min "
               "over steps and faces);\ncos: probe cosine to x_e after the torch / onnx signal (clean in brackets)")
    click.echo(f"{'method':8s} {'torch ms':>9s} {'onnx ms':>8s} {'parity':>8s} {'layouts':>8s} "
               f"{'step parity mean / face / step':>31s} {'cos torch':>10s} {'cos onnx':>9s}")
    rows = {}
    for method in METHODS:
        t_torch, t_onnx, agree, layouts, step_agree, face_step, cos_t, cos_o, clean = [], [], [], [], [], [], [], [], []
        for crop in crops:
            tensor = torch.from_numpy(crop[None])
            reference = reference_embeddings(model, tensor)
            start = time.perf_counter()
            g_torch = compute_signal(model, tensor, method=method).numpy()
            t_torch.append(time.perf_counter() - start)
            start = time.perf_counter()
            g_onnx = runtime.signal(crop, method=method)
            t_onnx.append(time.perf_counter() - start)
            agree.append(np.mean(np.sign(g_torch) == np.sign(g_onnx)))
            layouts.append(np.mean(np.sign(g_torch) == np.sign(compute_signal(layout, tensor, method=method).numpy())))
            steps = _step_parity(model, runtime, crop, reference, method)
            step_agree.extend(steps)
            face_step.append(np.mean(steps))
            with torch.no_grad():
                for out, x in ((cos_t, crop + g_torch), (cos_o, crop + g_onnx), (clean, crop[None])):
                    out.append(float(F.cosine_similarity(model(torch.from_numpy(np.clip(x, 0, 1))), reference)))
        row = rows[method] = {
            "torch_ms": 1e3 * float(np.median(t_torch)), "onnx_ms": 1e3 * float(np.median(t_onnx)),
            "parity": float(np.mean(agree)), "parity_min_face": float(np.min(agree)), "layouts": float(np.mean(layouts)),
            "step_parity": float(np.mean(step_agree)), "step_parity_min_face": float(np.min(face_step)),
            "step_parity_min_step": float(np.min(step_agree)), "cos_torch": float(np.mean(cos_t)),
            "cos_onnx": float(np.mean(cos_o)), "cos_clean": float(np.mean(clean))}
        click.echo(f"{method:8s} {row['torch_ms']:9.1f} {row['onnx_ms']:8.1f} {row['parity']:8.4f} {row['layouts']:8.4f} "
                   f"{row['step_parity']:13.5f} / {row['step_parity_min_face']:.5f} / {row['step_parity_min_step']:.5f} "
                   f"{row['cos_torch']:10.3f} {row['cos_onnx']:9.3f} ({row['cos_clean']:.3f})")
    if json_out:
        json_out.write_text(json.dumps({"faces": faces, "threads": threads, "eps": 8 / 255, "steps": 10,
                                        "probe": str(probe) if probe else "shipped", "methods": rows}, indent=2) + "\n")
        click.echo(f"wrote {json_out}")


def channels_last(model):  # noqa: ANN001, ANN201 - torch.nn.Module in, torch.nn.Module out
    """``model`` run in channels-last memory layout: the same weights and loop on other convolution kernels, whose
    float rounding against torch's default layout is the baseline of the parity figures (torch against torch)."""
    import copy

    import torch

    class ChannelsLast(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = copy.deepcopy(model).to(memory_format=torch.channels_last).eval()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.model(x.contiguous(memory_format=torch.channels_last))

    return ChannelsLast()


def _step_parity(model, runtime, crop, reference, method: str, steps: int = 10, eps: float = 8 / 255) -> list[float]:  # noqa: ANN001
    """The sign agreement of each ONNX step's direction with torch's, fed torch's state."""
    import numpy as np
    import torch

    from edge_probe.diversity import diversity_matrix
    from edge_probe.export import SignalStep
    from edge_probe.runtime import MOMENTUM
    from edge_probe.signal import diversity_schedule

    step, x = SignalStep(model), torch.from_numpy(crop[None])
    steps = 1 if method == "fgsm" else steps
    delta = velocity = torch.zeros_like(x)
    draws, eye, agreement = diversity_schedule(steps), torch.eye(x.shape[-1]), []
    for i in range(steps):
        d = draws[i] if method == "di2fgsm" else None
        rows, cols = (eye, eye) if d is None else (torch.from_numpy(diversity_matrix(x.shape[-1], d.inner, d.outer, d.top)),
                                                   torch.from_numpy(diversity_matrix(x.shape[-1], d.inner, d.outer, d.left)))
        _, got = runtime.step(x.numpy(), delta.numpy(), velocity.numpy(), reference.numpy(), method=method, index=i,
                              eps=eps, alpha=eps / steps)
        delta, velocity = step(x, delta, velocity, reference, rows, cols, torch.tensor(eps / steps),
                               torch.tensor(MOMENTUM[method]), torch.tensor(eps))
        agreement.append(float(np.mean(np.sign(got) == np.sign(velocity.numpy()))))
    return agreement
