"""Study presets: the reference study of Syne Tune's visualization tutorial, its offline variant
and the demo, runnable by name; a bad name says which exist."""
from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from blackbox_repo.errors import InputError
from studies.benchmarks import BENCHMARKS
from studies.cli import main
from studies.runner import run_study
from studies.spec import _check_method_names
from studies.study_presets import STUDY_PRESETS, get_study_preset, offline_availability

#: the tutorial's labels -> the presets of methods/presets.py with its settings
TUTORIAL_METHODS = {"ASHA": "ASHA-PROM", "SYNCHB": "SYNCHB", "BOHB": "BOHB", "MOBSTER": "MOBSTER-JOINT",
                    "HYPERTUNE": "HYPERTUNE-INDEP", "SYNCMOBSTER": "SYNCMOBSTER", "DEHB": "DEHB"}
TUTORIAL_BENCHMARKS = ["nas201-cifar10", "nas201-cifar100", "nas201-ImageNet16-120", "fcnet-protein",
                       "fcnet-naval", "fcnet-parkinsons", "fcnet-slice", "lcbench-Fashion-MNIST",
                       "lcbench-airlines", "lcbench-albert", "lcbench-covertype", "lcbench-christine"]


def test_every_preset_parses_and_the_demo_is_one():
    assert list(STUDY_PRESETS) == ["demo", "synetune-hypertune", "synetune-hypertune-offline"]
    for name, preset in STUDY_PRESETS.items():
        study = preset.study()
        assert study.name == name and study.description and preset.description()
        assert Path(preset.path).read_text() == preset.text()


def test_reference_study_is_the_tutorial_study():
    study = get_study_preset("synetune-hypertune").study()
    assert {label: m.method for label, m in study.methods.items()} == TUTORIAL_METHODS
    assert all(not m.args for m in study.methods.values())
    assert list(study.benchmarks) == TUTORIAL_BENCHMARKS
    assert study.seeds == list(range(15)) and len(study.runs()) == 1260
    for label, b in study.benchmarks.items():      # Syne Tune's definitions, unchanged
        d = BENCHMARKS[label]
        assert (f"{b.blackbox}/{b.task}", b.metric, b.mode, b.n_workers) == \
            (d.to_spec()["blackbox"], d.metric, d.mode, d.n_workers)
        assert b.stop["max_time"] == d.max_time
    problems, named = _check_method_names(study.methods)
    assert problems == [] and named == list(TUTORIAL_METHODS)


def test_offline_variant_has_the_same_methods_and_shape():
    online = get_study_preset("synetune-hypertune").study()
    study = get_study_preset("synetune-hypertune-offline").study()
    assert {k: m.to_dict() for k, m in study.methods.items()} == {k: m.to_dict() for k, m in online.methods.items()}
    assert (len(study.methods), len(study.benchmarks), len(study.seeds)) == (7, 12, 15)
    blackboxes = [b.blackbox for b in study.benchmarks.values()]
    assert blackboxes.count("yahpo-lcbench") == 10 and blackboxes.count("mlp-sklearn") == 2
    # the 5 lcbench datasets of the online study are among them, as YAHPO tables
    assert {"yahpo-" + k for k in TUTORIAL_BENCHMARKS if k.startswith("lcbench-")} < set(study.benchmarks)
    assert "mlp-wine" not in study.benchmarks               # every method ties there
    assert "lcdb" not in blackboxes                         # 20 learners: every run ends exhausted
    for b in study.benchmarks.values():
        assert b.n_workers == 4 and set(b.stop) == {"max_time"}
    # embedded tables: available on any machine, even with an empty cache
    available = offline_availability(study)
    assert available["mlp-digits"] and available["mlp-breast_cancer"]


def _cache_with_offline_tables() -> Path:
    """A cache holding the yahpo-lcbench tables (built without downloads: `HPOSIM_YAHPO_DATA=...
    hposim blackbox get yahpo-lcbench`): $HPOSIM_PRESET_CACHE, else the default cache (only read)."""
    folder = Path(os.environ.get("HPOSIM_PRESET_CACHE") or Path("~/.cache/hposim").expanduser())
    if not (folder / "blackboxes" / "yahpo-lcbench").is_dir():
        pytest.skip(f"no yahpo-lcbench tables in {folder}; build them offline with "
                    f"HPOSIM_YAHPO_DATA=<yahpo surrogates> hposim blackbox get yahpo-lcbench")
    return folder


def test_offline_variant_is_available_offline_and_passes_the_spec_check(monkeypatch):
    monkeypatch.setenv("HPOSIM_HOME", str(_cache_with_offline_tables()))
    monkeypatch.setenv("HPOSIM_OFFLINE", "1")
    study = get_study_preset("synetune-hypertune-offline").study()
    available = offline_availability(study)
    assert all(available.values()), [k for k, ok in available.items() if not ok]
    study.validate()            # every method builds on every benchmark


def test_one_seed_of_the_offline_variant_runs(tmp_path):
    """Smoke run: seed 0 of every method on the offline variant's cheapest benchmark (embedded)."""
    study = get_study_preset("synetune-hypertune-offline").study()
    study.benchmarks = {k: v for k, v in study.benchmarks.items() if k == "mlp-breast_cancer"}
    study.seeds = [0]
    summary = run_study(study, str(tmp_path), engine="serial", progress=False)
    assert summary.ok and summary.done == 7
    from studies.analysis import load_study

    done = load_study(str(tmp_path / study.name)).done
    assert sorted(done["method"]) == sorted(TUTORIAL_METHODS)
    assert all(math.isfinite(v) for v in done["best"])


def test_unknown_preset_says_which_exist(capsys, tmp_path):
    with pytest.raises(InputError, match="Did you mean 'synetune-hypertune'.*Presets: demo, synetune-hypertune, "
                                         "synetune-hypertune-offline"):
        get_study_preset("synetune-hypertun")
    assert main(["study", "run", "--preset", "nope", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown study preset 'nope'" in err and "synetune-hypertune-offline" in err
    assert main(["study", "run", "--root", str(tmp_path)]) == 2
    assert "give a study spec file or --preset NAME" in capsys.readouterr().err
    assert main(["study", "run", "x.yaml", "--preset", "demo", "--root", str(tmp_path)]) == 2
    assert not (tmp_path / "demo").exists()


def test_cli_lists_prints_and_runs_a_preset(capsys, tmp_path):
    assert main(["study", "presets"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:-1]}
    assert list(lines) == list(STUDY_PRESETS)
    assert "7 x 12 x 15 = 1260" in lines["synetune-hypertune"]
    assert "5 x 2 x 10 = 100" in lines["demo"] and "  yes  " in lines["demo"]
    assert "0 of 12 benchmarks" in lines["synetune-hypertune"]      # nothing of it in the test's empty cache
    assert main(["study", "presets", "synetune-hypertune-offline"]) == 0
    assert capsys.readouterr().out == STUDY_PRESETS["synetune-hypertune-offline"].text()
    assert main(["study", "presets", "demo", "--path"]) == 0
    assert capsys.readouterr().out.strip() == STUDY_PRESETS["demo"].path
    assert main(["study", "presets", "dem"]) == 2
    assert "Did you mean 'demo'" in capsys.readouterr().err
