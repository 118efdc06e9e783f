"""``apf bench desktop``: seconds from launching the app to an interactive window, and UI stalls while models load.

Each run starts a fresh process (pinned to ``--cores`` CPUs, offscreen unless a platform is set), which
reports when its event loop first runs with the window shown, then the longest gap between 10 ms timer
ticks while the models load in the background (how long the window could not respond).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

TARGET_S = 3.0
_TICK_MS = 10
_CHILD = "from apf_desktop.app.bench import probe; probe()"


def probe() -> None:
    """Child side: launch with a throw-away settings file; print ``interactive``, then
    ``warm <s> <max stall s> <status message>`` once the background loading has ended."""
    from PySide6.QtCore import QSettings, QTimer

    from apf_desktop.app.main_window import launch

    with tempfile.TemporaryDirectory() as tmp:
        app, window = launch(store=QSettings(str(Path(tmp) / "bench.ini"), QSettings.Format.IniFormat))
        state = {"last": 0.0, "stall": 0.0, "start": 0.0}

        def tick() -> None:
            now = time.perf_counter()
            if not state["start"]:
                state["start"] = now
                print("interactive", flush=True)
            else:
                state["stall"] = max(state["stall"], now - state["last"])
            state["last"] = now
            if now - state["start"] > 0.5 and not window.tasks.busy():
                status = window.statusBar().currentMessage()
                print(f"warm {now - state['start']:.3f} {state['stall']:.3f} {status}", flush=True)
                app.quit()

        timer = QTimer()
        timer.timeout.connect(tick)
        timer.start(_TICK_MS)
        app.exec()
        window.close()


def _run_once(cores: list[int]) -> tuple[float, float, float, str]:
    """One fresh launch: (seconds to interactive, seconds of background loading, longest stall, final status)."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    interactive = warm = stall = float("nan")
    status = ""
    with tempfile.TemporaryFile("w+") as errors:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, stderr=errors, text=True,
                                 env=env, preexec_fn=lambda: os.sched_setaffinity(0, cores))
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("interactive"):
                interactive = time.perf_counter() - start
            elif line.startswith("warm"):
                _, warm_s, stall_s, status = line.rstrip("\n").split(" ", 3)
                warm, stall = float(warm_s), float(stall_s)
        if child.wait(timeout=600) != 0:
            errors.seek(0)
            raise click.ClickException(f"the app exited with status {child.returncode}:\n{errors.read()[-2000:]}")
    return interactive, warm, stall, status


@click.command()
@click.option("--runs", default=3, show_default=True, help="Fresh launches to time.")
@click.option("--cores", default=2, show_default=True, help="CPUs the app may use.")
def cli(runs: int, cores: int) -> None:
    """Startup time of ``apf desktop`` to an interactive window (target <= 3 s on 2 cores)."""
    allowed = sorted(os.sched_getaffinity(0))[:cores]
    results = [_run_once(allowed) for _ in range(runs)]
    for i, (interactive, warm, stall, status) in enumerate(results, 1):
        click.echo(f"run {i}: interactive after {interactive:.2f} s; background loading ended {warm:.1f} s later "
                   f"({status}), longest UI stall meanwhile {stall * 1000:.0f} ms")
    median = statistics.median(r[0] for r in results)
    verdict = "meets" if median <= TARGET_S else "misses"
    click.echo(f"startup to an interactive window: median {median:.2f} s over {runs} runs on {len(allowed)} "
               f"CPU(s), {verdict} the {TARGET_S:.0f} s target")
