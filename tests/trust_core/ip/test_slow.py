import pytest


@pytest.mark.slow
def test_acceptance_at_readme_scale():
    """``apf lab ip --train 30000 --independents 12 --independent-train 10000 --epochs 5`` (about 4 min on 1 core)."""
    from trust_core.ip.lab import run

    result = run(train=30000, independents=12, independent_train=10000, epochs=5)
    assert result["false_positive_rate"] == {"trigger": 0.0, "signature": 0.0}
    assert all(r["trigger_verified"] and r["signature_verified"] for r in result["rows"] if r["kind"] != "distill")
    assert result["fingerprint"]["auc_finetuned_pruned_vs_independent"] >= 0.95
