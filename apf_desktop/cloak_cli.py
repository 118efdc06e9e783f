"""``apf cloak``: cloak the faces in photos before sharing them, and check that it worked.

Exit codes: 0 every photo done (or already done), 1 some photos failed (each reported, the rest done),
2 bad usage or an output folder that cannot be written, 3 the remote enhancer is unavailable or refused,
4 the disk is full, 130 interrupted (finished photos are kept; a rerun resumes).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from apf_desktop.pipeline import METHODS, STRENGTHS, CloakSettings

EXIT_FAILED, EXIT_USAGE, EXIT_ENHANCER, EXIT_DISK, EXIT_INTERRUPTED = 1, 2, 3, 4, 130


def verdict_table(results: list) -> str:  # noqa: ANN001 - CloakResult
    """The per-face verdict table: one row per face, the standard similarity on each shared copy."""
    rows = [("photo", "face", "verdict", "recognizer", "saved", "jpeg75", "half", "threshold")]
    for result in results:
        for i, face in enumerate(result.faces, 1):
            by_rec: dict[str, dict[str, float]] = {}
            thresholds: dict[str, float] = {}
            for c in face.checks:
                if c["against"] == "original":
                    by_rec.setdefault(c["recognizer"], {})[c["condition"]] = c["similarity"]
                    thresholds[c["recognizer"]] = c["threshold"]
            for j, (rec, sims) in enumerate(by_rec.items()):
                rows.append((result.source.name if i == 1 and j == 0 else "", str(i) if j == 0 else "",
                             (face.verdict or "-") if j == 0 else "", rec,
                             *(f"{sims.get(k, float('nan')):.3f}" for k in ("saved", "jpeg75", "half")),
                             f"{thresholds[rec]:.3f}"))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n(similarity of each protected face to the same face in the original; it is " \
                              "matched when >= the threshold)"


@click.command(name="cloak")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Output folder (default: beside each photo, as NAME-cloaked.EXT).")
@click.option("--strength", type=click.Choice(list(STRENGTHS)), default="mid", show_default=True,
              help="low / mid / high: L∞ 6 / 12 / 16 (of 255) under the texture mask, 4 / 8 / 12 without it.")
@click.option("--method", type=click.Choice(list(METHODS)), default="di2fgsm", show_default=True,
              help="The probe's signal method.")
@click.option("--server", default=None, help="Remote enhancer URL (default: the embedded enhancer).")
@click.option("--token", default=None, envvar="APF_TOKEN", help="Bearer token of the remote enhancer ($APF_TOKEN).")
@click.option("--reference", "references", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Other photos of the same person (repeatable): a better reference, and checked against.")
@click.option("--randomize", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Randomised response: replace this share of the signal by noise before it leaves the device "
                   "(hides the face from the enhancer, weakens the protection; see the README).")
@click.option("--masking/--no-masking", default=True, show_default=True,
              help="Texture masking: scale the filter down where the face is smooth, spending the strength's larger "
                   "masked budget where texture hides it; at the same look it protects more (README).")
@click.option("--check", is_flag=True, help="Check the protection on every local recognizer, also after sharing.")
@click.option("--json", "json_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write per-photo and per-face results here.")
@click.option("--keep-metadata", is_flag=True, help="Keep GPS, dates, camera and other EXIF (stripped by default).")
@click.option("--overwrite", is_flag=True, help="Cloak again photos whose output already exists (default: skip).")
def app(paths: tuple[Path, ...], out_dir: Path | None, strength: str, method: str, server: str | None,
        token: str | None, references: tuple[Path, ...], randomize: float, masking: bool, check: bool,
        json_out: Path | None,
        keep_metadata: bool, overwrite: bool) -> None:
    """Cloak every face in PATHS (photos or folders of photos); originals are never changed."""
    from tqdm import tqdm

    from apf_desktop.photo import DiskFullError, check_writable
    from apf_desktop.pipeline import CloakError, Cloaker, photo_files
    from edge_probe.client import EnhancerRejected, EnhancerUnavailable

    try:
        settings = CloakSettings(strength=strength, method=method, server=server, token=token,
                                 keep_metadata=keep_metadata, check=check, references=references,
                                 randomize=randomize, masking=masking)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    files = photo_files(paths)
    if not files:
        raise click.UsageError("no photos found in the given paths")
    folders = {out_dir} if out_dir else {f.parent for f in files}
    for folder in folders:
        try:
            check_writable(folder)
        except PermissionError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
    cloaker = Cloaker(settings)
    results, failures, code = [], {}, 0
    bar = tqdm(files, desc="cloak", unit="photo", disable=len(files) < 2, file=sys.stderr)
    try:
        for path in bar:
            try:
                result = cloaker.cloak_file(path, out_dir=out_dir, overwrite=overwrite)
            except CloakError as exc:
                failures[str(path)] = str(exc)
                bar.write(f"error: {exc}", file=sys.stderr)
                continue
            results.append(result)
            note = "already done, kept" if result.skipped else f"{len(result.faces)} face(s), {result.seconds:.1f} s"
            bar.write(f"{path} -> {result.output} ({note})", file=sys.stderr)
            for face in result.faces:
                if face.warning:
                    bar.write(f"warning: {path.name}: {face.warning}", file=sys.stderr)
    except (EnhancerUnavailable, EnhancerRejected) as exc:
        click.echo(f"error: {exc}", err=True)
        code = EXIT_ENHANCER
    except DiskFullError as exc:
        click.echo(f"error: {exc.strerror}; the photos finished so far are kept", err=True)
        code = EXIT_DISK
    except KeyboardInterrupt:
        click.echo("interrupted; the photos finished so far are kept (run again to resume)", err=True)
        code = EXIT_INTERRUPTED
    finally:
        bar.close()
    if check and any(r.faces for r in results):
        click.echo(verdict_table([r for r in results if r.faces]))
        for name, reason in cloaker.checker.unavailable.items():
            click.echo(f"note: recognizer {name} unavailable here ({reason})", err=True)
    if json_out:
        json_out.write_text(json.dumps({"settings": {"strength": strength, "eps": settings.eps, "method": method,
                                                     "randomize": randomize, "masking": settings.masking,
                                                     "enhancer": server or "embedded"},
                                        "results": [r.to_json() for r in results], "errors": failures}, indent=1))
    if failures:
        click.echo(f"{len(failures)} of {len(files)} photo(s) failed:", err=True)
        for name, reason in failures.items():
            click.echo(f"  {name}: {reason}", err=True)
    sys.exit(code or (EXIT_FAILED if failures else 0))
