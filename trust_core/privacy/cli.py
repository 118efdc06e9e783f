"""``apf lab privacy``: membership inference, differential privacy, gradient leakage and model inversion."""
from __future__ import annotations

import typer

app = typer.Typer(help="Privacy: membership inference, DP (randomized response, Laplace, DP-SGD), DLG, MI-FACE.",
                  no_args_is_help=True)
JSON = typer.Option(False, "--json", help="print JSON")


def _eps(values: str) -> tuple[float | None, ...]:
    return tuple(None if v.strip() in ("inf", "none") else float(v) for v in values.split(","))


@app.command()
def membership(epochs: str = typer.Option("2,10,50", help="training epochs of the target"),
               members: int = typer.Option(250), json_out: bool = JSON) -> None:
    """Yeom loss-threshold and Shokri shadow-model attacks as the target overfits."""
    from trust_core.extraction.report import emit
    from trust_core.privacy.experiment import membership_vs_overfitting

    rows = membership_vs_overfitting(epochs=tuple(int(e) for e in epochs.split(",")), members=members)
    emit("membership vs overfitting", rows, as_json=json_out)


@app.command("dp-sgd")
def dp_sgd(epsilons: str = typer.Option("inf,7,3,1", help="target ε values (inf = non-private)"),
           epochs: int = typer.Option(15), train_limit: int = typer.Option(0, help="0 = all 60,000"),
           activation: str = typer.Option("tanh", help="relu (Opacus's example) or tanh (tempered sigmoid)"),
           batch: int = typer.Option(240, help="expected Poisson batch"), lr: float = typer.Option(0.5),
           clip: float = typer.Option(1.0, help="per-sample gradient norm bound"), json_out: bool = JSON) -> None:
    """DP-SGD accuracy and membership AUC on MNIST per ε (δ = 1e-5) next to Opacus's published figures."""
    from trust_core.extraction.report import emit
    from trust_core.privacy.experiment import dp_sgd_table

    rows = dp_sgd_table(epsilons=_eps(epsilons), epochs=epochs, train_limit=train_limit or None,
                        activation=activation, batch=batch, lr=lr, max_grad_norm=clip)
    emit("dp-sgd accuracy", rows, as_json=json_out)


@app.command("dp-membership")
def dp_membership_cmd(epsilons: str = typer.Option("inf,7,3,1"), members: int = typer.Option(500),
                      epochs: int = typer.Option(30), json_out: bool = JSON) -> None:
    """Membership-inference AUC of an overfitting MLP, without and with DP-SGD."""
    from trust_core.extraction.report import emit
    from trust_core.privacy.experiment import dp_membership

    emit("dp membership", dp_membership(epsilons=_eps(epsilons), members=members, epochs=epochs), as_json=json_out)


@app.command()
def mechanisms(json_out: bool = JSON) -> None:
    """Randomized response and the Laplace mechanism: measured bias and error vs theory."""
    from trust_core.extraction.report import emit
    from trust_core.privacy.experiment import randomized_response_table

    emit("dp mechanisms", randomized_response_table(), as_json=json_out)


@app.command()
def leakage(images: int = typer.Option(5), steps: int = typer.Option(300), json_out: bool = JSON) -> None:
    """iDLG: recover MNIST images from their gradients (SSIM)."""
    from trust_core.extraction.report import emit
    from trust_core.privacy.experiment import leakage_table

    emit("gradient leakage", leakage_table(images=images, steps=steps), as_json=json_out)


@app.command()
def inversion(steps: int = typer.Option(1000), json_out: bool = JSON) -> None:
    """MI-FACE on AT&T faces: how often a recognizer names the reconstructed person."""
    from trust_core.extraction.report import emit
    from trust_core.privacy.experiment import inversion_table

    emit("model inversion", inversion_table(steps=steps), as_json=json_out)
