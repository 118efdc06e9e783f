import pytest


@pytest.mark.slow
def test_table_at_readme_scale():
    """``apf lab unlearning`` on all 60,000 MNIST images (about 3 min on 1 core)."""
    from trust_core.unlearning.lab import run

    result = run()
    rows = result["rows"]
    by = {(r["deleted"], r["position"], r["method"]): r for r in rows}
    assert len(rows) == 3 * 2 * 5 and result["config"]["original_top1"] >= 0.965
    for count in (1, 100, 1000):
        for position in (0.0, 0.5):
            do = by[(count, position, "DeepObliviate ε=0.1")]
            assert do["work_speedup"] > 1 and do["consistency"] >= 0.95
            assert do["top1"] >= by[(count, position, "naive retrain")]["top1"] - 0.02
    assert by[(1, 0.5, "DeepObliviate ε=0.1")]["work_speedup"] >= 50
    for count in (100, 1000):  # mid-training the residual memory fades within a few blocks
        do = by[(count, 0.5, "DeepObliviate ε=0.1")]
        assert do["work_speedup"] >= 20 and do["consistency"] >= 0.99
    assert by[(100, 0.5, "DeepObliviate ε=0.05")]["work_speedup"] >= 10
