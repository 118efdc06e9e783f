"""``apf eval apf-table``: the published APF table (Zhang et al., ACM MM 2020) on LFW, and the APF cloak.

Rows: **g** — the probe's signal applied directly; **ĝ** — T(g), the transfer network alone; **s** — T(g) + α·û,
the full filter. Columns: the four signal methods. Each cell runs the APF protocol
(:func:`trust_core.faces.evaluate.protection`): the fraction of LFW's genuine pairs still matched when the first
photo is protected, for FaceNet-CASIA (the white-box standard recognizer the enhancer was trained against) and dlib
(a black box never used in training, which re-crops the pasted-back photo), with mean SSIM and PSNR.

``apf eval apf-table`` (:mod:`apf_desktop.eval_cli`) runs it.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Optional, TypeVar

import numpy as np
import torch
import typer

from edge_probe.randomize import check_rate, randomize

#: table rows -> APFFilter flags (None: the signal itself).
ROWS = {"g": None, "ĝ": {"use_transfer": True, "use_universal": False}, "s": {"use_transfer": True, "use_universal": True}}
METHODS = ("fgsm", "ifgsm", "mifgsm", "di2fgsm")
#: where the signals come from: torch autograd (the reference), or the device's path — onnxruntime, then the wire.
SIGNAL_SOURCES = ("torch", "device")
PUBLISHED = {"g": (24.6, 12.3, 11.8, 7.6), "ĝ": (8.1, 4.6, 10.2, 1.1), "s": (5.2, 2.6, 4.3, 1.2)}
T = TypeVar("T")


class APFCloak:
    """Crops of the standard recognizer (N, 3, 160, 160) -> protected crops, by the probe's signal and one row
    of the filter. Signals are computed once per crop and method (randomised at rate ``randomize`` as the device
    would, :mod:`edge_probe.randomize`) and shared by every row and recognizer. ``runtime``: None computes them with
    torch autograd on ``probe``; an :class:`edge_probe.runtime.ProbeRuntime` computes them as the device does, on
    onnxruntime, and passes each through the wire format (:mod:`edge_probe.wire`), as the enhancer receives it.
    ``masking`` applies each filter under the crop's texture mask (:mod:`edge_probe.masking`), as ``apf cloak``
    does by default."""

    def __init__(self, probe: torch.nn.Module, filt: torch.nn.Module, *, eps: float = 8 / 255, randomize: float = 0.0,
                 seed: int = 0, runtime: object | None = None, masking: bool = False) -> None:
        self.probe, self.filter, self.eps, self.randomize = probe, filt.eval(), eps, check_rate(randomize)
        self.runtime, self.masking = runtime, masking
        self.rng = np.random.default_rng(seed)
        self._signals: dict[tuple[str, bytes], np.ndarray] = {}

    def _compute(self, views: np.ndarray, method: str) -> np.ndarray:
        from edge_probe import wire
        from edge_probe.signal import compute_signal

        if self.runtime is None:
            signals = compute_signal(self.probe, views, method=method, eps=self.eps).numpy()
        else:
            signals = np.concatenate([self.runtime.signal(view, method=method, eps=self.eps) for view in views])
        signals = randomize(signals, method=method, eps=self.eps, rate=self.randomize, rng=self.rng)
        if self.runtime is None:
            return signals
        return np.concatenate([wire.decode(wire.encode(signals[i:i + wire.MAX_FACES], method=method, eps=self.eps),
                                           kind="signal").values for i in range(0, len(signals), wire.MAX_FACES)])

    def signals(self, crops: torch.Tensor, method: str) -> np.ndarray:
        from edge_probe.crops import probe_view

        keys = [(method, hashlib.sha1(c.numpy().tobytes()).digest()) for c in crops]
        missing = [i for i, k in enumerate(keys) if k not in self._signals]
        if missing:
            fresh = self._compute(probe_view(crops[missing].numpy()), method)
            self._signals.update({keys[i]: g for i, g in zip(missing, fresh, strict=True)})
        return np.stack([self._signals[k] for k in keys])

    def cloak(self, method: str, row: str):  # noqa: ANN201 - trust_core.faces.evaluate.Cloak
        from edge_probe.crops import apply_filter

        flags = ROWS[row]

        def apply(crops: torch.Tensor) -> torch.Tensor:
            g = torch.from_numpy(self.signals(crops, method))
            with torch.no_grad():
                s = g if flags is None else self.filter(g, self.eps, **flags)
            return torch.from_numpy(apply_filter(crops.numpy(), s.numpy(), masking=self.masking))

        return apply


def check_signals(value: str) -> str:
    """``value`` if it is one of :data:`SIGNAL_SOURCES`, else a ValueError that says which are."""
    if value not in SIGNAL_SOURCES:
        raise ValueError(f"unknown signal source {value!r}: signals must be one of {SIGNAL_SOURCES}")
    return value


def option_callback(check: Callable[[T], T]) -> Callable[[T], T]:
    """A typer callback that runs ``check`` on the option's value and reports its ValueError as a bad parameter."""

    def callback(value: T) -> T:
        try:
            return check(value)
        except ValueError as err:
            raise typer.BadParameter(str(err)) from None

    return callback


#: callback of the ``--randomize`` options: the rate :func:`edge_probe.randomize.check_rate` accepts.
rate_option = option_callback(check_rate)


def apf_table(*, folds: int = 1, recognizers: tuple[str, ...] = ("facenet-casia", "dlib"), methods=METHODS,  # noqa: ANN001
              rows=tuple(ROWS), eps: float = 8 / 255, share: str = "saved", randomize: float = 0.0,
              signals: str = "torch", masking: bool = False, probe: Path | None = None,
              enhancer: Path | None = None, progress: bool = True) -> dict:
    """Every cell of the table on the genuine pairs of folds 1..``folds`` (a cell: still matched, SSIM, PSNR);
    ``signals``: one of :data:`SIGNAL_SOURCES`; ``masking``: under the texture mask (L∞ still ``eps``); ``probe``: a
    folder of probe weights from ``apf train probe --out`` instead of the shipped probe; ``enhancer``: APFFilter
    weights from ``apf train enhancer --out`` instead of the shipped ones."""
    from cloud_enhancer.enhancer import Enhancer
    from edge_probe.model import load_probe
    from trust_core.faces.evaluate import protection
    from trust_core.faces.recognizers import get_recognizer

    runtime = None
    if check_signals(signals) == "device":
        from edge_probe.runtime import ProbeRuntime

        runtime = ProbeRuntime(probe, threads=torch.get_num_threads())
    standard = get_recognizer("facenet-casia")
    runner = APFCloak(load_probe(probe), Enhancer.load(device="cpu", weights=enhancer).filter, eps=eps,
                      randomize=randomize, runtime=runtime, masking=masking)
    cells: dict[str, dict] = {}
    for name in recognizers:
        rec = get_recognizer(name)
        for row in rows:
            for method in methods:
                out = protection(rec, runner.cloak(method, row), crop_with=standard, folds=folds, impostors=False,
                                 share=share, progress=progress)
                cells[f"{name}/{row}/{method}"] = {k: out[k] for k in ("genuine_still_matched", "ssim", "psnr", "linf",
                                                                      "pairs", "threshold")}
                if progress:
                    c = cells[f"{name}/{row}/{method}"]
                    typer.echo(f"{name} {row} {method}: {100 * c['genuine_still_matched']:.1f}% still matched, "
                               f"SSIM {c['ssim']:.4f}", err=True)
    return {"folds": folds, "eps": eps, "share": share, "randomize": randomize, "signals": signals, "masking": masking,
            "cells": cells,
            **({"probe": str(probe)} if probe else {}), **({"enhancer": str(enhancer)} if enhancer else {}),
            "published_lfw": PUBLISHED}


def format_table(result: dict) -> str:
    """The table as text: one block per recognizer, a row per filter row, % still matched (SSIM)."""
    lines = []
    recognizers = dict.fromkeys(k.split("/")[0] for k in result["cells"])
    for name in recognizers:
        lines.append(f"{name} — genuine pairs still matched, % (mean SSIM / PSNR dB), L∞ {result['eps'] * 255:.0f}/255,"
                     f" share: {result['share']}, randomised response: {result.get('randomize', 0.0):g},"
                     f" signals: {result.get('signals', 'torch')}"
                     + (", texture-masked" if result.get("masking") else ""))
        lines.append("row  " + "".join(f"{m:>24}" for m in METHODS))
        for row in ROWS:
            cells = [result["cells"].get(f"{name}/{row}/{m}") for m in METHODS]
            lines.append(f"{row:<5}" + "".join(
                f"{100 * c['genuine_still_matched']:>6.1f} ({c['ssim']:.3f}/{c['psnr'] or 0:.1f})".rjust(24) if c else
                f"{'-':>24}" for c in cells))
        lines.append("")
    lines.append("published (LFW, white-box standard model): " +
                 "; ".join(f"{row} {' / '.join(map(str, v))}" for row, v in PUBLISHED.items()))
    return "\n".join(lines)


def apf_table_command(
    folds: int = typer.Option(1, min=1, max=10, help="genuine pairs of folds 1..N (300 per fold)"),
    recognizer: list[str] = typer.Option(["facenet-casia", "dlib"], "--recognizer", "-r"),
    method: list[str] = typer.Option(list(METHODS), "--method", "-m"),
    row: list[str] = typer.Option(list(ROWS), "--row"),
    eps: float = typer.Option(8 / 255, help="L∞ budget"),
    share: str = typer.Option("saved", help="saved, jpeg75, half or half+jpeg75 (what sharing does first)"),
    randomize: float = typer.Option(0.0, callback=rate_option,
                                    help="randomised response on the signals at this rate (edge_probe.randomize): "
                                         "what it costs the protection"),
    signals: str = typer.Option("torch", callback=option_callback(check_signals),
                                help="torch (autograd, the reference) or device (onnxruntime and the wire format, as "
                                     "apf cloak sends them)"),
    probe: Optional[Path] = typer.Option(None, "--probe", exists=True, file_okay=False,
                                         help="a probe trained with apf train probe --out DIR (default: the shipped one)"),
    enhancer: Optional[Path] = typer.Option(None, "--enhancer", exists=True, dir_okay=False,
                                            help="APFFilter weights from apf train enhancer --out DIR (default: the "
                                                 "shipped ones)"),
    masking: bool = typer.Option(False, "--masking", help="apply the filters under the texture mask (edge_probe.masking)"
                                                           ", as apf cloak does by default"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the results to this JSON file"),
) -> None:
    """Rows g / ĝ / s × FGSM, I-FGSM, MI-FGSM, DI²-FGSM on LFW by the APF protocol (FaceNet-CASIA and dlib)."""
    started = time.time()
    bad = [m for m in method if m not in METHODS] + [r for r in row if r not in ROWS]
    if bad:
        raise typer.BadParameter(f"unknown method/row {bad}; methods {METHODS}, rows {tuple(ROWS)}")
    result = apf_table(folds=folds, recognizers=tuple(recognizer), methods=tuple(method), rows=tuple(row), eps=eps,
                       share=share, randomize=randomize, signals=signals, masking=masking, probe=probe,
                       enhancer=enhancer)
    result["runtime_s"] = round(time.time() - started, 1)
    typer.echo(format_table(result))
    if json_out:
        json_out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        typer.echo(f"wrote {json_out}")
