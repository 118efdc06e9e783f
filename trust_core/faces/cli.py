"""``apf eval``: face recognition benchmarks (LFW verification, identification, APF protection)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Evaluate face recognizers and cloaks on LFW.", no_args_is_help=True)

RECOGNIZER = typer.Option("facenet-casia", "--recognizer", "-r", help="a registered recognizer (facenet-casia, dlib)")
JSON_OUT = typer.Option(None, "--json", help="write the results to this JSON file")


def _write(result: dict, out: Optional[Path], started: float) -> None:
    result["runtime_s"] = round(time.time() - started, 1)
    errors = result.get("errors") or {}
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        typer.echo(f"wrote {out}")
    if errors:
        typer.echo(f"{len(errors)} file(s) failed:", err=True)
        for path, reason in errors.items():
            typer.echo(f"  {Path(path).name}: {reason}", err=True)


def _recognizer(name: str):  # noqa: ANN202
    from trust_core.faces.recognizers import get_recognizer

    try:
        return get_recognizer(name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--recognizer") from None


@app.command()
def lfw(
    recognizer: str = RECOGNIZER,
    folds: int = typer.Option(10, min=1, max=10, help="evaluate folds 1..N; with 1 the threshold is the "
                              "recognizer's (chosen on folds 2-10), else leave-one-fold-out"),
    json_out: Optional[Path] = JSON_OUT,
    roc: Optional[Path] = typer.Option(None, "--roc", help="ROC plot (PNG); default: next to --json"),
) -> None:
    """LFW verification by pairs.txt: accuracy +- std, ROC AUC, TAR@FAR=1e-3, threshold."""
    from trust_core.faces.evaluate import lfw_verification, roc_png

    started = time.time()
    result = lfw_verification(_recognizer(recognizer), folds=folds)
    typer.echo(
        f"{result['recognizer']}: accuracy {100 * result['accuracy']:.2f} +- {100 * result['accuracy_std']:.2f}% "
        f"on fold(s) {result['folds']} (threshold {result['threshold']:.4f}), AUC {result['roc_auc']:.4f}, "
        f"TAR@FAR=1e-3 {100 * result['tar_at_far_1e-3']:.2f}%, {result['pairs']} pairs, "
        f"{result['fallbacks']} centre-box fallbacks"
    )
    plot = roc or (json_out.with_suffix(".png") if json_out else None)
    if plot is not None:
        result["roc_png"] = str(roc_png(result, plot))
    _write(result, json_out, started)


@app.command()
def identify(
    recognizer: str = RECOGNIZER,
    min_images: int = typer.Option(10, min=2, help="people with at least this many photos"),
    json_out: Optional[Path] = JSON_OUT,
) -> None:
    """Closed-set rank-1 identification on LFW (first photo of each person = gallery)."""
    from trust_core.faces.evaluate import identification

    started = time.time()
    result = identification(_recognizer(recognizer), min_images=min_images)
    typer.echo(f"{result['recognizer']}: rank-1 {100 * result['rank1']:.2f}% over {result['probes']} probes, "
               f"{result['people']} people")
    _write(result, json_out, started)


@app.command()
def protect(
    recognizer: str = RECOGNIZER,
    cloak: str = typer.Option("none", help="none, or an attack (fgsm, ifgsm, pgd, mifgsm, di2fgsm) "
                              "crafted on --source"),
    source: str = typer.Option("facenet-casia", help="differentiable recognizer the attack is crafted on"),
    eps: float = typer.Option(8 / 255, help="L-inf budget on [0, 1] crops"),
    steps: int = typer.Option(10, min=1),
    folds: int = typer.Option(10, min=1, max=10, help="pairs of folds 1..N"),
    threshold: Optional[float] = typer.Option(None, help="decision threshold (default: the recognizer's)"),
    json_out: Optional[Path] = JSON_OUT,
) -> None:
    """The APF protocol: genuine pairs still matched when the first photo is cloaked.

    The cloak works on --source's crops; for another --recognizer the cloaked crop is pasted back into
    the photo and re-cropped (a black-box transfer check)."""
    from trust_core.faces.evaluate import attack_cloak, protection

    started = time.time()
    crafter = _recognizer(source)
    try:
        fn = None if cloak == "none" else attack_cloak(crafter, cloak, eps=eps, steps=steps)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cloak") from None
    result = protection(_recognizer(recognizer), fn, crop_with=crafter, threshold=threshold, folds=folds)
    result.update(cloak=cloak, source=source, eps=eps, steps=steps)
    typer.echo(
        f"{recognizer} / cloak {cloak}: genuine still matched {100 * result['genuine_still_matched']:.2f}%, "
        f"impostors matched {100 * result['impostor_matched']:.2f}% at threshold {result['threshold']:.4f}; "
        f"SSIM {result['ssim']:.4f}, PSNR "
        f"{'n/a' if result['psnr'] is None else format(result['psnr'], '.2f')} dB, Linf {result['linf']:.4f}"
    )
    _write(result, json_out, started)
