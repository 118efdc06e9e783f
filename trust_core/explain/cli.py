"""``apf lab explain``: saliency maps of the shipped MNIST CNN (PNG) and the IG completeness check (JSON)."""
from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Explainability: gradients, SmoothGrad, Integrated Gradients, LRP-ε, Grad-CAM.",
                  add_completion=False, no_args_is_help=True)


@app.command()
def saliency(n: int = typer.Option(6, help="MNIST test images."), steps: int = typer.Option(64, help="IG steps."),
             out: Path = typer.Option(Path("explain_out"), help="Output folder for saliency.png and saliency.json.")) -> None:
    """Render every method's maps for ``n`` test images and report IG's completeness error."""
    from trust_core.data import mnist_tensors
    from trust_core.explain import attributions as A
    from trust_core.explain.figures import save_saliency_grid
    from trust_core.explain.lrp import lrp_epsilon
    from trust_core.models.mnist import load_mnist_cnn

    model = load_mnist_cnn()
    x, y = mnist_tensors("test", limit=n)
    ig, error = A.integrated_gradients(model, x, y, steps=steps)
    maps = {
        "gradient": A.saliency(model, x, y),
        "SmoothGrad": A.smoothgrad(lambda z: A.saliency(model, z, y), x, samples=25),
        "IG": ig,
        "LRP-ε": lrp_epsilon(model, x, y),
        "Grad-CAM": A.grad_cam(model, model.features[4], x, y),  # the last feature map (after pooling)
    }
    png = save_saliency_grid(x, maps, out / "saliency.png", titles=[f"label {int(v)}" for v in y])
    report = {"images": n, "ig_steps": steps, "ig_completeness_error": [round(float(e), 6) for e in error],
              "ig_completeness_error_max": float(error.max())}
    (out / "saliency.json").write_text(json.dumps(report, indent=2) + "\n")
    typer.echo(f"IG completeness error (max over {n} images, {steps} steps): {float(error.max()):.5f}")
    typer.echo(f"wrote {png} and {out / 'saliency.json'}")
