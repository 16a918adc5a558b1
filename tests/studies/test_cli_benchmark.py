"""``hposim benchmark list`` in an empty cache: embedded benchmarks offline, the others with their command."""
from __future__ import annotations

from studies.cli import main


def test_list_says_what_is_offline_and_how_to_get_the_rest(hposim_home, capsys):
    assert main(["benchmark", "list"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:-1]}
    assert lines["mlp-digits"].split()[1:7] == ["mlp-sklearn/digits", "valid_error", "min", "4", "80", "s"]
    assert lines["mlp-digits"].endswith("yes (embedded)")
    assert lines["nas201-cifar100"].endswith("no: hposim blackbox get nasbench201")
    assert " 6 h " in lines["nas201-cifar100"] and " metric_valid_error " in lines["nas201-cifar100"]
    assert lines["lcbench-albert"].endswith(
        "no: hposim blackbox get lcbench && hposim blackbox surrogate lcbench/albert --model knn --param n_neighbors=1")
    assert "2 h or 4000 reports" in lines["lcbench-albert"]
    assert out.splitlines()[-1].startswith("91 benchmarks, 3 available offline now")  # 3+4+34+34 Syne Tune, 3+4+6+3 ours


def test_list_filters(hposim_home, capsys):
    assert main(["benchmark", "list", "--offline"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[1:-1]] == ["mlp-breast_cancer", "mlp-digits", "mlp-wine"]
    assert main(["benchmark", "list", "fcnet-*", "--offline"]) == 0
    assert "none of these benchmarks is available offline" in capsys.readouterr().out
    assert main(["benchmark", "list", "nas201-c*"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[1:-1]] == ["nas201-cifar10", "nas201-cifar100"]
    assert main(["benchmark", "list", "nope*"]) == 0
    assert "no named benchmark matches nope*" in capsys.readouterr().out
