"""``apf desktop``: launch the desktop application."""
from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command(name="desktop")
@click.argument("photos", nargs=-1, type=click.Path(exists=True, path_type=Path))
def app(photos: tuple[Path, ...]) -> None:
    """Open the APF window, optionally with PHOTOS (files or folders) already added."""
    from apf_desktop.app.main_window import launch

    qt_app, _window = launch(photos)
    sys.exit(qt_app.exec())
