"""Runs are tied to what produced them: fingerprints, stale runs, version flags (stand-in run function)."""
from __future__ import annotations

import json
import re

import pytest

from studies.fingerprint import (RESULTS_SEMANTICS_VERSION, StaleRunsError, fingerprint, hposim_version, provenance,
                                 run_settings)
from studies.report import write_report
from studies.runner import run_study
from studies.spec import Study
from studies.status import format_status, study_status
from fakes import fake_run


def _spec(seeds=(0, 1), rf=3, b2_trials=6, digits_workers=2) -> dict:
    return {"name": "fp", "seeds": list(seeds),
            "methods": {"A": {"method": "RandomSearch"}, "B": {"method": "ASHA", "reduction_factor": rf}},
            "benchmarks": {"b1": {"blackbox": "toy/t1", "max_trials": 6, "n_workers": 2},
                           "b2": {"blackbox": "toy/t2", "max_trials": b2_trials, "n_workers": 2},
                           "mlp-digits": {"n_workers": digits_workers}}}   # a named benchmark, overridden


def _run(root, spec, computed=None, **kw):
    def run_fn(run):
        if computed is not None:
            computed.append(run.key)
        return fake_run(run)

    return run_study(Study.from_dict(spec), str(root), run_fn=run_fn, validate=False, progress=False, **kw)


def _meta(root, bench, method, seed) -> dict:
    return json.loads((root / "fp" / bench / method / str(seed) / "metadata.json").read_text())


def test_settings_resolve_presets_defaults_and_stop_values():
    spec = {"name": "s", "seeds": [3],
            "methods": {"P": {"method": "ASHA-PROM"}, "E": {"method": "ASHA", "type": "promotion", "brackets": 1,
                                                             "reduction_factor": 3}},
            "benchmarks": {"b": {"blackbox": "x/y", "max_time": 60}}}
    p, e = Study.from_dict(spec).runs()
    # a preset and the same method spelled out (with a default made explicit) are the same settings
    assert run_settings(p)["method"] == run_settings(e)["method"]
    assert run_settings(p)["method"]["name"] == "ASHA" and run_settings(p)["method"]["args"]["type"] == "promotion"
    assert run_settings(p)["seed"] == 3
    spec["benchmarks"]["b"]["max_time"] = 60.0            # 60 and 60.0 are one budget to the simulator
    assert fingerprint(Study.from_dict(spec).runs()[0])["settings_sha256"] == fingerprint(p)["settings_sha256"]
    fp = fingerprint(p)
    assert fp["hposim"] == hposim_version() and fp["semantics"] == RESULTS_SEMANTICS_VERSION
    assert re.fullmatch(r"[0-9a-f]{64}", fp["settings_sha256"])


def test_changed_spec_is_refused_then_kept_then_recomputed_exactly(tmp_path):
    first = []
    assert _run(tmp_path, _spec(), first).done == 12
    assert len(first) == 12
    meta = _meta(tmp_path, "b1", "B", 1)
    assert meta["fingerprint"]["settings"]["method"]["args"]["reduction_factor"] == 3
    assert (meta["fingerprint"]["settings"]["benchmark"]["blackbox"], meta["fingerprint"]["settings"]["benchmark"]["task"]) == ("toy", "t1")
    spec_before = (tmp_path / "fp" / "study.yaml").read_text()

    # a method argument, a budget, a named benchmark's override and the seed set change
    changed = _spec(seeds=(1, 2), rf=4, b2_trials=5, digits_workers=3)
    stale = {("b1", "B", 1), ("b2", "A", 1), ("b2", "B", 1), ("mlp-digits", "A", 1), ("mlp-digits", "B", 1)}
    computed = []
    with pytest.raises(StaleRunsError) as e:
        _run(tmp_path, changed, computed)
    msg = str(e.value)
    assert computed == [] and (tmp_path / "fp" / "study.yaml").read_text() == spec_before
    assert "5 stored run(s) were produced with other settings than the spec now gives" in msg
    assert "b1 / B: 1 run (seed 1): method.args.reduction_factor: 3 -> 4" in msg
    assert "b2 / A: 1 run (seed 1): benchmark.stop.max_trials: 6 -> 5" in msg
    assert "b2 / B: 1 run (seed 1): method.args.reduction_factor: 3 -> 4; benchmark.stop.max_trials: 6 -> 5" in msg
    assert "mlp-digits / A: 1 run (seed 1): benchmark.n_workers: 2 -> 3" in msg
    assert "b1 / A" not in msg                       # unchanged, and seed 0 is no longer in the spec
    assert "--rerun-stale" in msg and "--keep-stale" in msg

    # kept knowingly: only the new seed's cells run; status and the report flag the stale runs
    kept = _run(tmp_path, changed, computed, stale="keep")
    assert sorted(computed) == sorted((b, m, 2) for b in ("b1", "b2", "mlp-digits") for m in ("A", "B"))
    assert kept.stale == 5 and "of which 5 stale, kept: --keep-stale" in kept.format()
    table = study_status(str(tmp_path / "fp"))
    assert set(table[table["stale"]][["benchmark", "method", "seed"]].itertuples(index=False, name=None)) == stale
    assert table.set_index(["benchmark", "method", "seed"]).loc[("b2", "A", 1), "changes"] == \
        "benchmark.stop.max_trials: 6 -> 5"
    text = format_status(table)
    assert text.splitlines()[1].split() == ["benchmark", "method", "done", "failed", "running", "missing", "stale"]
    assert "stale: 5 done run(s) were produced with other settings than study.yaml gives" in text
    assert "  mlp-digits / B: 1 run (seed 1): method.args.reduction_factor: 3 -> 4; benchmark.n_workers: 2 -> 3" in text
    md = (tmp_path / "out" / "report.md")
    write_report(str(tmp_path / "fp"), str(tmp_path / "out"), formats=("png",))
    assert "**Warning:** 5 run(s) are stale" in md.read_text()

    # recomputed: exactly the stale runs, each replaced in place
    computed.clear()
    again = _run(tmp_path, changed, computed, stale="rerun")
    assert again.ok and sorted(computed) == sorted(stale)
    assert _meta(tmp_path, "b1", "B", 1)["fingerprint"]["settings"]["method"]["args"]["reduction_factor"] == 4
    table = study_status(str(tmp_path / "fp"))
    assert not table["stale"].any() and "stale" not in format_status(table)
    computed.clear()
    assert _run(tmp_path, changed, computed).skipped == 12 and computed == []   # nothing stale any more


def test_other_versions_and_unknown_provenance_are_flagged(tmp_path):
    _run(tmp_path, _spec(seeds=(0,)))
    older = tmp_path / "fp" / "b1" / "A" / "0" / "metadata.json"
    meta = json.loads(older.read_text())
    meta["fingerprint"]["hposim"] = "0.0.1"                      # same semantics: same results
    older.write_text(json.dumps(meta))
    legacy = tmp_path / "fp" / "b2" / "A" / "0" / "metadata.json"
    meta = json.loads(legacy.read_text())
    del meta["fingerprint"]                                      # written before fingerprints existed
    meta["versions"]["hposim"] = "0.0.1"
    legacy.write_text(json.dumps(meta))
    table = study_status(str(tmp_path / "fp"))
    row = table.set_index(["benchmark", "method", "seed"])
    assert row.loc[("b1", "A", 0), "provenance"] == "hposim 0.0.1 (semantics 1)"
    assert row.loc[("b2", "A", 0), "provenance"] == "unknown provenance"
    assert not table["stale"].any()
    text = format_status(table)
    assert (f"versions: 1 run(s) were written by another hposim version than this one (hposim {hposim_version()}, "
            f"results semantics {RESULTS_SEMANTICS_VERSION}): 1 by hposim 0.0.1 (results semantics 1)") in text
    assert "versions: 1 run(s) have unknown provenance (1 by hposim 0.0.1)" in text
    write_report(str(tmp_path / "fp"), str(tmp_path / "out"), formats=("png",))
    md = (tmp_path / "out" / "report.md").read_text()
    assert "1 run(s) were written by another hposim version than this one" in md
    assert "1 run(s) have unknown provenance" in md and "are stale" not in md
    assert _run(tmp_path, _spec(seeds=(0,))).skipped == 6      # neither is stale: nothing to refuse

    # a legacy record is still compared through the run spec it recorded
    with pytest.raises(StaleRunsError, match=r"b2 / A: 1 run \(seed 0\): benchmark.stop.max_trials: 6 -> 5"):
        _run(tmp_path, _spec(seeds=(0,), b2_trials=5))


def test_another_results_semantics_makes_runs_stale(tmp_path):
    _run(tmp_path, _spec(seeds=(0,)))
    path = tmp_path / "fp" / "b1" / "B" / "0" / "metadata.json"
    meta = json.loads(path.read_text())
    meta["fingerprint"]["semantics"] = RESULTS_SEMANTICS_VERSION - 1
    path.write_text(json.dumps(meta))
    prov = provenance(meta, Study.from_dict(_spec(seeds=(0,))).runs()[0])
    assert prov.known and prov.hposim == hposim_version()
    with pytest.raises(StaleRunsError, match=rf"b1 / B: 1 run \(seed 0\): results semantics: "
                                             rf"{RESULTS_SEMANTICS_VERSION - 1} -> {RESULTS_SEMANTICS_VERSION}"):
        _run(tmp_path, _spec(seeds=(0,)))
    computed = []
    assert _run(tmp_path, _spec(seeds=(0,)), computed, stale="rerun").ok and computed == [("b1", "B", 0)]


def test_a_label_given_another_method_names_the_method_not_each_argument(tmp_path):
    _run(tmp_path, _spec(seeds=(0,)))
    changed = _spec(seeds=(0,))
    changed["methods"]["A"] = {"method": "ASHA"}
    with pytest.raises(StaleRunsError) as e:
        _run(tmp_path, changed)
    lines = [line for line in str(e.value).splitlines() if line.startswith("  b1 / A")]
    assert len(lines) == 1 and re.fullmatch(
        r"  b1 / A: 1 run \(seed 0\): method.name: 'RandomSearch' -> 'ASHA'; method.args: \d+ differ", lines[0])


def test_bad_stale_policy_is_an_input_error(tmp_path):
    from blackbox_repo.errors import InputError

    with pytest.raises(InputError, match="stale='yes' is not valid; allowed: \\['refuse', 'rerun', 'keep'\\]"):
        _run(tmp_path, _spec(), stale="yes")


def test_a_run_behind_a_surrogate_records_the_surrogate_and_its_settings(tmp_path, hposim_home):
    from blackbox_repo import add_surrogate
    from fakes import make_toy_blackbox

    add_surrogate(make_toy_blackbox("t1"), "knn", n_neighbors=1).save("toy-knn", "t1")
    spec = {"name": "sur", "seeds": [0], "methods": {"RS": "RandomSearch"},
            "benchmarks": {"k": {"blackbox": "toy-knn/t1", "max_trials": 5, "n_workers": 2}}}
    assert run_study(Study.from_dict(spec), str(tmp_path), progress=False).ok
    fp = json.loads((tmp_path / "sur" / "k" / "RS" / "0" / "metadata.json").read_text())["fingerprint"]
    assert fp["surrogate"]["model"] == "knn" and fp["surrogate"]["model_kwargs"] == {"n_neighbors": 1}
    assert fp["settings"]["benchmark"]["blackbox"] == "toy-knn"
