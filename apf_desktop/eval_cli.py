"""``apf eval``: trust_core's face benchmarks, plus those that need the edge and the cloud (which trust_core may
not import): the APF table and the audit of what the signal reveals."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from apf_desktop.apf_table import apf_table_command, rate_option
from trust_core.faces.cli import app

app.command("apf-table")(apf_table_command)


@app.command("channel")
def channel(
    method: str = typer.Option("fgsm", help="signal method whose payload is attacked"),
    eps: float = typer.Option(8 / 255, help="L∞ budget of the signal"),
    randomize: float = typer.Option(0.0, callback=rate_option, help="randomised response: the share of the signal "
                                                                     "the device replaces by noise (edge_probe.randomize)"),
    faces: int = typer.Option(2000, min=64, help="public faces the attacker's inverter learns from "
                                                 "(optimisation: whose mean is the prior)"),
    minutes: float = typer.Option(10.0, help="training time of the inverter"),
    folds: int = typer.Option(1, min=1, max=10, help="LFW pairs of folds 1..N are attacked"),
    examples: Optional[Path] = typer.Option(None, help="PNG of originals and reconstructions"),
    attack: str = typer.Option("inverter", help="inverter (a learned U-Net) or optimisation (gradient leakage "
                                                "and MI-FACE against the payload, from the mean public face)"),
    attacked: int = typer.Option(12, min=2, help="optimisation: genuine LFW pairs (fold 1) attacked"),
    steps: int = typer.Option(60, min=1, help="optimisation: steps per attack"),
    probe: Optional[Path] = typer.Option(None, "--probe", exists=True, file_okay=False,
                                         help="inverter: the payload of a probe trained with apf train probe --out DIR "
                                              "(default: the shipped one)"),
    json_out: Optional[Path] = typer.Option(None, "--json"),
) -> None:
    """Privacy of the channel: reconstruct faces from the signal alone; SSIM and dlib match rate vs chance."""
    from edge_probe.leakage import audit, public_faces, train_inverter

    if attack == "optimisation":
        if probe is not None:
            raise typer.BadParameter("--probe applies to the inverter attack only")
        from edge_probe.payload_leakage import payload_audit
        from trust_core.extraction.report import emit

        result = payload_audit(faces=attacked, steps=steps, method=method, eps=eps, randomize=randomize,
                               prior_faces=faces)
        emit(f"{method} payload (randomised response {randomize:g}), {result['faces']} LFW faces, {steps} steps",
             result["rows"], as_json=False)
        if json_out:
            json_out.write_text(json.dumps(result, indent=2) + "\n")
        return
    if attack != "inverter":
        raise typer.BadParameter(f"attack must be inverter or optimisation, got {attack!r}")

    signals, views = public_faces(faces, method=method, eps=eps, randomize=randomize, probe=probe)
    inverter, history = train_inverter(signals, views, minutes=minutes)
    result = {**audit(inverter, method=method, eps=eps, randomize=randomize, folds=folds, examples=examples,
                      probe=probe),
              "train_faces": int(len(signals)), "minutes": minutes, "history": history[-5:],
              **({"probe": str(probe)} if probe else {})}
    rec, true = result["dlib"]["reconstruction"], result["dlib"]["true_crop"]
    typer.echo(f"{method} signal (randomised response {randomize:g}), {result['pairs']} LFW pairs: "
               f"reconstruction SSIM {result['ssim_reconstruction']:.3f}; "
               f"dlib matches the reconstruction to the person {100 * rec['genuine_matched']:.1f}% "
               f"(impostors {100 * rec['impostor_matched']:.1f}%); true crops {100 * true['genuine_matched']:.1f}% "
               f"(impostors {100 * true['impostor_matched']:.1f}%)")
    if json_out:
        json_out.write_text(json.dumps(result, indent=2) + "\n")
