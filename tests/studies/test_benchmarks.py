"""Named benchmarks: Syne Tune's values, metrics that exist in the recipes, spec expansion."""
from __future__ import annotations

import pytest

from blackbox_repo.errors import InputError
from studies import Study
from studies.benchmarks import (BENCHMARKS, BenchmarkDefinition, expand_benchmarks, get_benchmark,
                                register_benchmark)


def test_values_of_syne_tune_definitions():
    nb = {n: (BENCHMARKS[f"nas201-{n}"].n_workers, BENCHMARKS[f"nas201-{n}"].max_time)
          for n in ("cifar10", "cifar100", "ImageNet16-120")}
    assert nb == {"cifar10": (4, 18000), "cifar100": (4, 21600), "ImageNet16-120": (8, 28800)}
    assert {BENCHMARKS[f"nas201-{n}"].metric for n in nb} == {"metric_valid_error"}
    slice_ = BENCHMARKS["fcnet-slice"]
    assert (slice_.blackbox, slice_.task, slice_.metric, slice_.mode, slice_.max_time) == \
        ("fcnet", "slice_localization", "metric_valid_loss", "min", 3600)
    lc = BENCHMARKS["lcbench-Fashion-MNIST"]
    assert (lc.metric, lc.mode, lc.max_time, lc.max_reports, lc.surrogate, dict(lc.surrogate_kwargs)) == \
        ("val_accuracy", "max", 7200, 4000, "knn", {"n_neighbors": 1})
    assert lc.to_spec()["blackbox"] == "lcbench-knn/Fashion-MNIST" and lc.to_spec()["max_reports"] == 4000
    assert BENCHMARKS["yahpo-lcbench-Fashion-MNIST"].task == "189908"
    assert len([n for n in BENCHMARKS if n.startswith("lcbench-")]) == 34


def test_every_definition_names_a_task_and_metric_of_its_blackbox():
    from blackbox_repo.recipes import RECIPES
    from blackbox_repo.repository import EmbeddedProvider

    embedded = EmbeddedProvider()
    for d in BENCHMARKS.values():
        if d.blackbox in RECIPES:
            r = RECIPES[d.blackbox]
            assert d.metric in r.objectives, d.name
            assert not r.tasks or d.task in r.tasks, d.name
        else:
            assert d.task in embedded.tasks(d.blackbox), d.name
            assert d.metric in embedded.load(d.blackbox, d.task).objectives_names, d.name


def test_spec_accepts_names_overrides_and_variants():
    s = Study.from_dict({"name": "s", "methods": {"RS": "RandomSearch"},
                         "benchmarks": ["nas201-cifar100", "mlp-digits"]})
    b = s.benchmarks["nas201-cifar100"]
    assert (b.blackbox, b.task, b.metric, b.mode, b.n_workers, dict(b.stop)) == \
        ("nasbench201", "cifar100", "metric_valid_error", "min", 4, {"max_time": 21600})
    s = Study.from_dict({"name": "s", "methods": {"RS": "RandomSearch"}, "benchmarks": {
        "nas201-cifar100": {"n_workers": 8},
        "nb-short": {"benchmark": "nas201-cifar10", "max_time": 600, "max_trials": 50},
        "mlp-wine": None,
        "mine": {"blackbox": "mlp-sklearn/digits", "max_trials": 5}}})
    assert s.benchmarks["nas201-cifar100"].n_workers == 8
    assert s.benchmarks["nas201-cifar100"].stop == {"max_time": 21600}
    assert dict(s.benchmarks["nb-short"].stop) == {"max_time": 600, "max_trials": 50}
    assert s.benchmarks["nb-short"].task == "cifar10"
    assert s.benchmarks["mlp-wine"].stop == {"max_time": 17}
    assert s.benchmarks["mine"].stop == {"max_trials": 5} and s.benchmarks["mine"].metric is None


def test_unknown_names_and_bad_overrides_are_reported_with_hints():
    with pytest.raises(ValueError) as e:
        Study.from_dict({"name": "s", "methods": {"RS": "RandomSearch"},
                         "benchmarks": ["nas201-cifar1000", "fcnet-protien", 3]})
    msg = str(e.value)
    assert "3 problem(s)" in msg
    assert "unknown benchmark 'nas201-cifar1000'. Did you mean 'nas201-cifar100'" in msg
    assert "Did you mean 'fcnet-protein'" in msg and "must be a benchmark name, got 3" in msg
    with pytest.raises(ValueError) as e:
        Study.from_dict({"name": "s", "methods": {"RS": "RandomSearch"}, "benchmarks": {
            "fcnet-naval": {"n_worker": 8}, "typo-bench": {"max_time": 5}}})
    msg = str(e.value)
    assert "'n_worker' cannot be overridden" in msg and "Did you mean 'n_workers'" in msg
    assert "unknown benchmark 'typo-bench'" in msg and "explicit form with 'blackbox: <name>/<task>'" in msg
    problems: list[str] = []
    expand_benchmarks(["mlp-digits", "mlp-digits"], problems)
    assert problems == ["benchmarks: 'mlp-digits' is listed twice"]
    with pytest.raises(InputError, match="Did you mean 'fcnet-protein'"):
        get_benchmark("fcnet-protien")


def test_register_benchmark_makes_a_name_usable_in_specs():
    d = BenchmarkDefinition("test-digits-2w", "mlp-sklearn", "digits", "valid_error", "min", 2, 30)
    try:
        register_benchmark(d)
        with pytest.raises(InputError, match="already registered"):
            register_benchmark(d)
        s = Study.from_dict({"name": "s", "methods": {"RS": "RandomSearch"}, "benchmarks": ["test-digits-2w"]})
        assert s.benchmarks["test-digits-2w"].n_workers == 2
        s.validate()
    finally:
        BENCHMARKS.pop("test-digits-2w", None)
    with pytest.raises(InputError, match="not valid"):
        register_benchmark(BenchmarkDefinition("bad/name", "x", "y", "m", "min", 1, 1))
    with pytest.raises(InputError, match="mode 'low'"):
        BenchmarkDefinition("b", "x", "y", "m", "low", 1, 1)
    with pytest.raises(InputError, match="max_time must be a positive"):
        BenchmarkDefinition("b", "x", "y", "m", "min", 1, 0)


def test_docs_list_every_named_benchmark():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "benchmarks.md").read_text()
    listed = [line.split("|")[1].strip().strip("`") for line in text.splitlines()
              if line.startswith("| `")]
    assert listed == list(BENCHMARKS)
    for d in BENCHMARKS.values():
        assert f"| `{d.name}` | `{d.blackbox}/{d.task}`" in text and f"| {d.budget()} |" in text


def test_docs_spec_example_parses():
    import re
    from pathlib import Path

    import yaml

    text = (Path(__file__).parents[2] / "docs" / "benchmarks.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    spec = yaml.safe_load(blocks[0])
    s = Study.from_dict(spec)
    assert list(s.benchmarks) == ["lcdb-40996", "lcdb-554", "mlp-digits", "nas201-final-cifar10"]
    s = Study.from_dict({**spec, "benchmarks": yaml.safe_load(blocks[1])["benchmarks"]})
    assert s.benchmarks["nas201-cifar100"].n_workers == 8 and s.benchmarks["nb10-short"].stop == \
        {"max_time": 3600, "max_trials": 200}
