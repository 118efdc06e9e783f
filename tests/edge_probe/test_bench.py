"""``apf bench probe``: latency and parity of the device's signal against torch, with torch's own rounding baseline."""
import json

import numpy as np
import torch
from click.testing import CliRunner

from edge_probe.bench import channels_last, cli


def test_channels_last_baseline_is_the_same_probe(probe, lfw_crops):
    crops = torch.from_numpy(lfw_crops)
    with torch.no_grad():
        np.testing.assert_allclose(channels_last(probe)(crops).numpy(), probe(crops).numpy(), atol=1e-5)


def test_bench_probe_reports_parity_per_step_and_per_trajectory(tmp_path):
    out = tmp_path / "probe.json"
    result = CliRunner().invoke(cli, ["--faces", "1", "--threads", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["methods"]
    assert set(rows) == {"fgsm", "ifgsm", "mifgsm", "di2fgsm"}
    assert rows["fgsm"]["parity"] >= 0.999 and rows["fgsm"]["layouts"] >= 0.999
    for row in rows.values():
        assert row["step_parity_min_step"] >= 0.998 and row["onnx_ms"] > 0
        assert row["cos_onnx"] < row["cos_clean"] - 0.3 and abs(row["cos_onnx"] - row["cos_torch"]) < 0.05
