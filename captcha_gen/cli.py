"""``apf captcha``: make, evaluate and serve adversarial CAPTCHAs."""
from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Generate, evaluate and serve adversarial CAPTCHAs.", no_args_is_help=True)


@app.command()
def make(level: str = typer.Option("medium", help="easy, medium or hard."),
         n: int = typer.Option(10, min=1, help="Number of CAPTCHAs."),
         out: Path = typer.Option(..., "-o", "--out", help="Output folder (PNG images + labels.tsv)."),
         seed: int = typer.Option(0, min=0, help="First seed; CAPTCHA i uses seed + i."),
         adversarial: bool = typer.Option(False, help="Perturb against the shipped breaker ensemble."),
         eps: float | None = typer.Option(None, help="L∞ budget in 1/255 units (with --adversarial; default: the generator's)."),
         steps: int = typer.Option(30, min=1, help="Attack steps (with --adversarial).")) -> None:
    """Batch-generate CAPTCHAs with a labels file (file<TAB>answer)."""
    import numpy as np
    from PIL import Image

    from captcha_gen.levels import level as check_level
    from captcha_gen.render import generate

    try:
        check_level(level)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    captchas = [generate(level, seed + i) for i in range(n)]
    images = np.stack([c.image for c in captchas])
    if adversarial:
        import torch

        from captcha_gen.adversarial import make_adversarial
        from captcha_gen.breakers import ENSEMBLE, load_breaker
        from captcha_gen.train import images_tensor

        breakers = [load_breaker(name) for name in ENSEMBLE]
        budget = {} if eps is None else {"eps": eps / 255}
        adv = make_adversarial(images_tensor(images), [c.text for c in captchas], breakers, steps=steps, seed=seed, **budget)
        images = (adv[:, 0] * 255).round().to(torch.uint8).numpy()
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (c, image) in enumerate(zip(captchas, images)):
        name = f"{level}_{seed + i:07d}.png"
        Image.fromarray(image, mode="L").save(out / name)
        rows.append(f"{name}\t{c.text}")
    (out / "labels.tsv").write_text("\n".join(rows) + "\n")
    typer.echo(f"wrote {n} {'adversarial ' if adversarial else ''}{level} CAPTCHAs and labels.tsv to {out}")


@app.command("eval")
def evaluate_cmd(json_out: Path = typer.Option(None, "--json", help="Write the table as JSON here."),
                 n: int = typer.Option(100, min=1, help="Test CAPTCHAs per level."),
                 levels: list[str] = typer.Option(["easy", "medium", "hard"], "--level", help="Levels to evaluate (repeat)."),
                 eps: float | None = typer.Option(None, help="L∞ budget in 1/255 units (default: the generator's)."),
                 steps: int = typer.Option(30, min=1, help="Attack steps."),
                 samples: int | None = typer.Option(None, min=1, help="EOT samples per step (default: the generator's)."),
                 cam_dir: Path = typer.Option(Path("captcha_gradcam"), help="Folder for the Grad-CAM PNGs."),
                 threads: int = typer.Option(1, min=1, help="torch CPU threads.")) -> None:
    """Breaker accuracy on clean vs adversarial CAPTCHAs under random transforms, per level and breaker."""
    import torch

    from captcha_gen.evaluate import evaluate

    from captcha_gen.levels import level as check_level

    for name in levels:
        try:
            check_level(name)
        except ValueError as err:
            raise typer.BadParameter(str(err)) from None
    torch.set_num_threads(threads)
    attack = {k: v for k, v in (("eps", None if eps is None else eps / 255), ("samples", samples)) if v is not None}
    report = evaluate(n=n, levels=levels, steps=steps, cam_dir=cam_dir, log=typer.echo, **attack)
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2))
        typer.echo(f"wrote {json_out}")


@app.command()
def serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8010),
          level: str = typer.Option("medium", help="easy, medium or hard."),
          clean: bool = typer.Option(False, help="Serve plain CAPTCHAs (no breakers needed)."),
          ttl: float = typer.Option(120.0, help="Seconds a challenge stays valid."),
          rate: int = typer.Option(30, help="Requests per client per window."),
          window: float = typer.Option(60.0, help="Rate-limit window in seconds."),
          pool: int = typer.Option(64, help="Pre-generated challenges kept ready.")) -> None:
    """Run the CAPTCHA service: GET /challenge, POST /verify."""
    import uvicorn

    from captcha_gen.service import adversarial_source, clean_source, create_app

    source = clean_source(level) if clean else adversarial_source(level)
    uvicorn.run(create_app(source, ttl=ttl, rate=rate, window=window, pool_size=pool), host=host, port=port)


@app.command()
def adaptive(breaker: str = typer.Option("crnn", help="Breaker the attacker fine-tunes."),
             level: str = typer.Option("medium"), n: int = typer.Option(5000, min=1, help="Adversarial CAPTCHAs to fine-tune on."),
             minutes: float = typer.Option(5.0, help="Fine-tuning time budget."),
             json_out: Path = typer.Option(None, "--json", help="Write the result as JSON here."),
             threads: int = typer.Option(1, min=1, help="torch CPU threads for fine-tuning."),
             workers: int = typer.Option(1, min=1, help="Processes generating the adversarial CAPTCHAs.")) -> None:
    """The adaptive attacker: fine-tune a breaker on adversarial CAPTCHAs and read fresh ones."""
    import torch

    from captcha_gen.adaptive import adaptive_attack

    torch.set_num_threads(threads)
    result = adaptive_attack(breaker=breaker, level_name=level, n_train=n, minutes=minutes, workers=workers,
                             log=typer.echo)
    typer.echo(json.dumps(result))
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2))
