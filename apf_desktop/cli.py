"""The ``apf`` command: one small entry module that mounts each package's subcommand group.

Subcommands are imported only when invoked, so ``apf --help`` stays fast (no torch, Qt or dlib).
Each package owns its group in its own ``cli.py`` (a typer app or a click command).
"""
from __future__ import annotations

import importlib

import click

#: name -> ("module:attribute", one-line help). Order is the order shown by ``apf --help``.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "cloak": ("apf_desktop.cloak_cli:app", "Cloak photos before sharing (APF) and check the protection."),
    "eval": ("apf_desktop.eval_cli:app", "Measure face recognizers and cloaks on LFW (verification, identification, APF protocol)."),
    "serve": ("cloud_enhancer.cli:app", "Run the cloud enhancer HTTP service (FastAPI)."),
    "desktop": ("apf_desktop.app_cli:app", "Launch the desktop application."),
    "captcha": ("captcha_gen.cli:app", "Generate, evaluate and serve adversarial CAPTCHAs."),
    "debias": ("trust_core.fairness.cli:app", "Debias classifiers with adversarial augmentation (AEDA) and baselines."),
    "train": ("apf_desktop.cli:train", "Train the project's models (MNIST CNN, probe, enhancer, breakers, ...)."),
    "bench": ("apf_desktop.cli:bench", "Benchmarks that print speed ratios against baselines measured in the same run."),
    "lab": ("apf_desktop.cli:lab", "Course experiments of trust_core: defenses, backdoors, privacy, IP, unlearning, ..."),
    "data": ("trust_core.data.cli:app", "Locate, verify and download the data sets."),
}


def _resolve(name: str, target: str, help_text: str) -> click.Command:
    """Import ``module:attribute``: a click command is used as it is, a typer app runs behind a thin proxy.

    (typer vendors its own click, so its commands cannot be mounted in a click group directly.)
    """
    module_name, attr = target.split(":")
    obj = getattr(importlib.import_module(module_name), attr)
    if isinstance(obj, click.Command):
        return obj

    @click.command(name=name, help=help_text, add_help_option=False,
                   context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def proxy(args: tuple[str, ...]) -> None:
        obj(args=list(args), prog_name=click.get_current_context().command_path)

    return proxy


#: ``apf train NAME``: each package's training entry point.
TRAINERS: dict[str, tuple[str, str]] = {
    "mnist": ("trust_core.models.cli:train_mnist", "Train the shipped MNIST CNN."),
    "probe": ("edge_probe.train:cli", "Distil the edge probe from the standard recognizer."),
    "enhancer": ("cloud_enhancer.train:cli", "Train the universal perturbation and the U-Net transfer network."),
    "breakers": ("captcha_gen.train:cli", "Train the CAPTCHA breakers."),
}

#: ``apf bench NAME``: benchmarks (speed and memory targets live here, never in timed tests).
BENCHMARKS: dict[str, tuple[str, str]] = {
    "attacks": ("trust_core.attacks.bench:cli", "PGD throughput vs a naive loop (and torchattacks when installed)."),
    "probe": ("edge_probe.bench:cli", "Signal latency per face, torch vs onnxruntime."),
    "enhancer": ("cloud_enhancer.bench:cli", "Enhancer service throughput and latency under load."),
    "cloak": ("apf_desktop.bench:cli", "End-to-end cloak time per face vs a direct PGD."),
    "captcha": ("captcha_gen.bench:cli", "Adversarial CAPTCHA generation throughput."),
    "desktop": ("apf_desktop.app.bench:cli", "Desktop app startup time to an interactive window, UI stalls while models load."),
}

#: ``apf lab NAME``: the course experiments, one per trust_core topic.
LABS: dict[str, tuple[str, str]] = {
    "attacks": ("trust_core.attacks.cli:app", "Robust accuracy under the gradient attacks."),
    "explain": ("trust_core.explain.cli:app", "Saliency maps: gradients, SmoothGrad, IG, LRP, Grad-CAM."),
    "robustness": ("trust_core.robustness.cli:app", "Common-corruption error and mCE."),
    "defenses": ("trust_core.defenses.cli:app", "Adversarial training, distillation, input transforms, detection, IBP."),
    "poisoning": ("trust_core.poisoning.cli:app", "Label flipping, training-set and clean-label poisoning."),
    "backdoor": ("trust_core.backdoor.cli:app", "Backdoor attacks x defenses table."),
    "extraction": ("trust_core.extraction.cli:app", "Model stealing and DRMI data reduction."),
    "privacy": ("trust_core.privacy.cli:app", "Membership inference, inversion, differential privacy, leakage."),
    "federated": ("trust_core.federated.cli:app", "Federated learning, malicious clients, robust aggregation."),
    "ip": ("trust_core.ip.cli:app", "Watermarks and fingerprints."),
    "unlearning": ("trust_core.unlearning.cli:app", "SISA and DeepObliviate."),
    "deepfake": ("trust_core.deepfake.cli:app", "Face-swap generation and detection."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands (``self.lazy``: name -> (target, help)) are imported on first use."""

    def __init__(self, *args: object, lazy: dict[str, tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy if lazy is not None else SUBCOMMANDS

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.lazy)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return None
        target, help_text = self.lazy[cmd_name]
        try:
            cmd = _resolve(cmd_name, target, help_text)
        except ModuleNotFoundError as exc:
            if not exc.name or not target.split(":")[0].startswith(exc.name):
                raise  # a real missing dependency, not a subcommand that is not built yet
            return _unavailable(cmd_name, help_text)
        cmd.help = cmd.help or help_text
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in self.lazy.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _unavailable(name: str, help_text: str) -> click.Command:
    @click.command(name=name, help=help_text, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def _cmd(args: tuple[str, ...]) -> None:
        raise click.ClickException(f"'apf {name}' is not available in this build yet.")

    return _cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="apf")
def main() -> None:
    """APF: benign adversarial examples for privacy, CAPTCHAs and fairness.

    Cloak faces in photos before sharing them (the adversarial privacy filter), make CAPTCHAs
    that people read and OCR breakers misread, debias classifiers, and study trustworthy ML.
    """


@click.group(cls=LazyGroup, lazy=TRAINERS)
def train() -> None:
    """Train the project's models; each writes its weights and a manifest entry (sha256, command, data, metrics)."""


@click.group(cls=LazyGroup, lazy=BENCHMARKS)
def bench() -> None:
    """Benchmarks; each prints ratios against a baseline measured in the same run."""


@click.group(cls=LazyGroup, lazy=LABS)
def lab() -> None:
    """Course experiments of trust_core; each prints its table and can write JSON."""


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="apf")
