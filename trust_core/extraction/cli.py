"""``apf lab extraction``: model stealing experiments on MNIST (DRMI, Knockoff, Jacobian augmentation)."""
from __future__ import annotations

import typer

app = typer.Typer(help="Model extraction: DRMI data reduction, Knockoff and Jacobian-augmentation stealing.",
                  no_args_is_help=True)


@app.command()
def queries(
    budgets: str = typer.Option("50,150,200,300,600", help="comma-separated query budgets"),
    pool: int = typer.Option(3000, help="attacker's candidate pool (random MNIST train images)"),
    epochs: int = typer.Option(40, help="substitute training epochs"),
    seed: int = typer.Option(0),
    json_out: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Queries vs substitute accuracy and FGSM transferability to the victim, per method."""
    from trust_core.extraction.experiment import queries_table
    from trust_core.extraction.report import emit

    rows = queries_table(budgets=tuple(int(b) for b in budgets.split(",")), pool_size=pool, epochs=epochs, seed=seed)
    emit("extraction queries", rows, as_json=json_out)


@app.command("one-percent")
def one_percent_cmd(
    seeds: str = typer.Option("0,1,2", help="comma-separated seeds"),
    pool: int = typer.Option(3000, help="candidate pool DRMI chooses the 600 queries from"),
    epochs: int = typer.Option(40),
    json_out: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """DRMI's acceptance: 600 queries (1% of MNIST train) chosen by DRMI vs random, over seeds."""
    from trust_core.extraction.experiment import one_percent
    from trust_core.extraction.report import emit

    emit("extraction one-percent", one_percent(seeds=tuple(int(s) for s in seeds.split(",")), pool_size=pool,
                                                epochs=epochs), as_json=json_out)
