import pytest


@pytest.mark.slow
def test_acceptance_at_readme_scale():
    """``apf lab deepfake --train 3000 --test 1000`` (about 4 min on 1 core)."""
    from trust_core.deepfake.lab import run

    fused = next(r for r in run(train=3000, test=1000)["rows"] if r["detector"] == "fused")
    assert fused["auc"] >= 0.97 and fused["auc_jpeg75"] >= 0.93
