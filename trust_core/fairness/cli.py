"""``apf debias``: train debiasing methods on C-MNIST or CelebA-10k and compare with the AEDA tables."""
from __future__ import annotations

import json
import time
from enum import Enum
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="Debias classifiers with adversarial augmentation (AEDA) and baselines.", no_args_is_help=True)


class Dataset(str, Enum):
    cmnist = "cmnist"
    celeba = "celeba"
    celeba_tuned = "celeba-tuned"
    fewshot = "fewshot"


def _cell(stats: dict[str, dict[str, float]], key: str) -> str:
    return f"{stats[key]['mean']:6.2f} ± {stats[key]['std']:5.2f}"


@app.command()
def run(
    dataset: Dataset = typer.Argument(..., help="cmnist (colour-biased MNIST), celeba (CelebA-10k on the frozen "
                                                "probe), celeba-tuned (the probe fine-tuned end to end) or fewshot "
                                                "(the MNIST 4-shot pilot: Original vs AEDA_robust; --method ignored)."),
    method: list[str] = typer.Option(["original", "aeda-robust"], "--method", "-m",
                                     help="Method(s): original, undersample, reweight, adv, aeda-pre, aeda-online, "
                                          "aeda-robust, unbiased (cmnist: Original trained without the colour "
                                          "bias, the ceiling), or all. Repeat the option for several."),
    seeds: int = typer.Option(3, min=1, help="Number of training seeds (0..seeds-1)."),
    first_seed: int = typer.Option(0, "--first-seed", min=0,
                                   help="Train seeds first..first+seeds-1 and add them to the runs of seeds "
                                        "0..first-1 that the --json file holds for each method."),
    epochs: int = typer.Option(None, min=1, help="Override the protocol's number of epochs."),
    json_out: Path = typer.Option(None, "--json", help="Write every run and the summary to this JSON file; a file "
                                                       "from the same setup keeps its other methods."),
    threads: int = typer.Option(1, min=1, help="torch threads."),
    reading_bias_head: bool = typer.Option(False, "--reading-bias-head",
                                           help="AEDA online / robust: the bias head's loss stops at the shared "
                                                "features, so it reads them without shaping them."),
    eps: float = typer.Option(None, min=0.0, help="AEDA: override the protocol's flip budget (in the protocol's "
                                                  "units: [0, 1] pixels, or the tint shift on cmnist)."),
    robust_eps: float = typer.Option(None, "--robust-eps", min=0.0,
                                     help="AEDA_robust: override the budget its bias head is trained against."),
    flips: int = typer.Option(None, min=1, help="AEDA online / robust: flipped copies of every training image, "
                                                "each towards a different bias group (default 1)."),
) -> None:
    """Train each method with each seed; print test bACC and bias (% points), mean ± std, beside the published ones."""
    import torch

    from trust_core.fairness.experiment import (
        METHODS,
        PROTOCOLS,
        PUBLISHED,
        UNBIASED,
        extend_report,
        load,
        run_one,
        summarise,
        unbiased_twin,
    )

    known = (*METHODS, UNBIASED) if dataset is Dataset.cmnist else METHODS
    methods = list(known) if "all" in method else method
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise typer.BadParameter(f"unknown method(s) {unknown} for {dataset.value}; choose from {', '.join(known)} or all")
    torch.set_num_threads(threads)
    if dataset is Dataset.fewshot:
        if eps is not None or robust_eps is not None or flips is not None or reading_bias_head:
            raise typer.BadParameter("fewshot runs the published pilot's settings; --eps, --robust-eps, --flips and "
                                     "--reading-bias-head apply to cmnist and celeba")
        if first_seed:
            raise typer.BadParameter("--first-seed applies to cmnist and celeba")
        _fewshot(seeds, epochs, json_out)
        return
    start = time.perf_counter()
    data = load(dataset.value)
    overrides = {} if epochs is None else {"epochs": epochs}
    chosen = {"eps": eps, "robust_eps": robust_eps, "flips": flips,
              "bias_trains_features": False if reading_bias_head else None}
    attack = {**PROTOCOLS[dataset.value].attack, **{k: v for k, v in chosen.items() if v is not None}}
    typer.echo(f"{data.protocol}; training {PROTOCOLS[dataset.value].train}"
               f"{'' if epochs is None else f' (epochs={epochs})'}; AEDA attack {attack}")
    report: dict[str, object] = {"dataset": dataset.value, "protocol": data.protocol,
                                 "train": {**PROTOCOLS[dataset.value].train, **overrides},
                                 "attack": attack, "methods": {}}
    existing = _earlier_results(json_out, report)
    earlier = _earlier_runs(existing, methods, first_seed)
    typer.echo(f"{'method':12s} {'bACC %':>15s} {'bias (pts)':>15s} {'val bACC':>15s} {'published':>16s} {'s/seed':>7s}")
    for name in methods:
        runs = list(earlier[name])
        trained_on = unbiased_twin(dataset.value) if name == UNBIASED else data
        for seed in range(first_seed, first_seed + seeds):
            runs.append(run_one(trained_on, name, seed=seed, attack=attack, **overrides))
            typer.echo(f"  {name} seed {seed}: bACC {runs[-1]['bacc']:.2f}  bias {runs[-1]['bias']:.2f}  "
                       f"({runs[-1]['train_seconds']:.0f} s)", err=True)
        stats = summarise(runs)
        published = PUBLISHED[dataset.value].get(name)
        shown = f"{published[0]:6.2f} / {published[1]:5.2f}" if published else "—"
        typer.echo(f"{name:12s} {_cell(stats, 'bacc')} {_cell(stats, 'bias')} {_cell(stats, 'val_bacc')} "
                   f"{shown:>16s} {stats['train_seconds']['mean']:7.1f}")
        report["methods"][name] = {"runs": runs, "summary": stats, "published": published}  # type: ignore[index]
    report["seconds"] = time.perf_counter() - start
    typer.echo(f"total {report['seconds']:.0f} s on {threads} thread(s)")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report if existing is None else extend_report(existing, report), indent=2))


def _earlier_results(path: Path | None, report: dict[str, object]) -> dict[str, Any] | None:
    """The results already in ``path``, checked before any training to be extendable by ``report``."""
    from trust_core.fairness.experiment import check_same_setup

    if path is None or not path.exists():
        return None
    try:
        existing = json.loads(path.read_text())
        check_same_setup(existing, report)
    except (json.JSONDecodeError, ValueError, AttributeError) as err:
        raise typer.BadParameter(f"{path} holds other results ({err}); choose another --json file") from err
    return existing


def _earlier_runs(existing: dict[str, Any] | None, methods: list[str], first_seed: int) -> dict[str, list]:
    """Each method's runs of seeds 0..``first_seed``-1 from the results file, checked before any training."""
    if not first_seed:
        return {name: [] for name in methods}
    held = (existing or {}).get("methods", {})
    missing = [name for name in methods if len(held.get(name, {}).get("runs", [])) != first_seed]
    if missing:
        raise typer.BadParameter(f"--first-seed {first_seed} extends a --json file holding seeds 0..{first_seed - 1} "
                                 f"of each method; {', '.join(missing)} has other runs there")
    return {name: held[name]["runs"] for name in methods}


def _fewshot(seeds: int, epochs: int | None, json_out: Path | None) -> None:
    import statistics

    from trust_core.fairness.experiment import PUBLISHED_FEWSHOT
    from trust_core.fairness.fewshot import FEW, fewshot_pilot

    start = time.perf_counter()
    runs = [fewshot_pilot(seed=s, **({} if epochs is None else {"epochs": epochs})) for s in range(seeds)]
    typer.echo("MNIST 10-way, digits 2/4/6/8 with 4 training images each, the others 500; per-digit test accuracy %")
    report: dict[str, object] = {"dataset": "fewshot", "runs": runs}
    for name, published in PUBLISHED_FEWSHOT.items():
        cells = [[r[name][d] for r in runs] for d in FEW]
        shown = "  ".join(f"{statistics.fmean(c):5.1f} ± {statistics.stdev(c) if len(c) > 1 else 0:4.1f}" for c in cells)
        typer.echo(f"{name:12s} {shown}   published {' / '.join(f'{p:.2f}' for p in published)}")
    report["seconds"] = time.perf_counter() - start
    typer.echo(f"total {report['seconds']:.0f} s")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, indent=2))
