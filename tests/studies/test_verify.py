"""Run integrity end to end: a results file corrupted with its size unchanged is caught by
``status``, the analysis, the report, ``load_run``, a rerun and ``hposim study verify``."""
from __future__ import annotations

import json
import warnings

import pytest

from blackbox_repo.errors import IntegrityError
from fakes import fake_run, fake_study_dict
from studies import Study, run_study
from studies.cli import main


def _study(tmp_path, seeds=2):
    s = run_study(Study.from_dict(fake_study_dict(seeds=seeds)), str(tmp_path / "results"), run_fn=fake_run,
                  validate=False, progress=False)
    assert s.ok
    return tmp_path / "results" / "fake"


def _flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF                  # bit rot: same size, same name
    path.write_bytes(bytes(data))


def test_corruption_with_unchanged_size_is_caught_everywhere(tmp_path, capsys):
    folder = _study(tmp_path)
    bad = folder / "b1" / "A" / "1" / "results.parquet"
    size = bad.stat().st_size
    _flip_a_byte(bad)
    assert bad.stat().st_size == size
    # verify: exit 3 (integrity), the file named
    assert main(["study", "verify", str(folder)]) == 3
    out = capsys.readouterr()
    assert "corrupt" in out.out and "b1/A/1" in out.out and "sha256" in out.out
    assert "8 runs checked: 7 done, 0 failed, 1 corrupt" in out.out and "hposim: error:" in out.err
    # status: corrupt, not missing
    assert main(["study", "status", str(folder)]) == 0
    status = capsys.readouterr().out
    assert status.startswith("8 runs: 7 done, 0 failed, 1 corrupt, 0 running, 0 missing"), status
    assert "corrupt b1/A/1: results.parquet does not match its sha256" in status
    # analysis: excluded, with a warning
    from studies.analysis import load_study

    with pytest.warns(UserWarning, match=r"1 corrupt run\(s\) .* EXCLUDED .*b1/A/1"):
        st = load_study(str(folder))
    assert len(st.done) == 7 and ("b1", "A", 1) not in {(r.benchmark, r.method, r.seed)
                                                        for r in st.done.itertuples()}
    # one run: an integrity error
    from studies.run_view import load_run

    with pytest.raises(IntegrityError, match="sha256"):
        load_run(str(folder / "b1" / "A" / "1"))
    # report: a clear warning, the run listed as excluded
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["study", "report", str(folder)]) == 0
    md = (folder / "report" / "report.md").read_text()
    assert "**Warning:** 1 run(s) are corrupt and EXCLUDED" in md and "b1/A/1" in md
    assert "1 corrupt (excluded)" in md
    capsys.readouterr()
    # a rerun does not skip it: it is recomputed, and everything verifies again
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = run_study(Study.from_dict(fake_study_dict(seeds=2)), str(tmp_path / "results"), run_fn=fake_run,
                      validate=False, progress=False)
    assert s.skipped == 7 and [o.name for o in s.outcomes] == ["b1/A/1"]
    assert main(["study", "verify", str(tmp_path / "results")]) == 0          # a root: every study in it
    assert "1 study: 8 runs checked: 8 done, 0 failed, 0 corrupt" in capsys.readouterr().out


def test_unparseable_metadata_is_corrupt_not_missing(tmp_path, capsys):
    folder = _study(tmp_path, seeds=1)
    (folder / "b2" / "B" / "0" / "metadata.json").write_text('{"format": "hposim-run", "stat')
    assert main(["study", "status", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "1 corrupt" in out and "corrupt b2/B/0: metadata.json cannot be read" in out
    assert main(["study", "verify", str(folder)]) == 3


def test_verify_on_a_folder_without_studies_is_an_input_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["study", "verify", str(tmp_path / "empty")]) == 2
    assert "not a study folder" in capsys.readouterr().err


def test_all_failed_with_report_writes_a_report_saying_why(tmp_path, toy_blackboxes, capsys, monkeypatch):
    import studies.runner

    def explode(run):
        raise RuntimeError("the simulator exploded on purpose (reduction_factor)")

    monkeypatch.setattr(studies.runner, "simulate_run", explode)     # the serial engine runs in this process
    p = tmp_path / "s.yaml"
    p.write_text("name: allbad\nseeds: 2\nmethods: {bad: {method: RandomSearch}}\n"
                 "benchmarks: {b: {blackbox: toy/t1, max_trials: 3}}\n")
    code = main(["study", "run", str(p), "--root", str(tmp_path / "r"), "--engine", "serial", "-q", "--report"])
    out = capsys.readouterr()
    assert code == 1 and "every run failed" in out.err
    md = (tmp_path / "r" / "allbad" / "report" / "report.md").read_text()
    assert "**Warning:** no run is done (2 of 2 failed)" in md and "reduction_factor" in md
    status = json.loads((tmp_path / "r" / "allbad" / "b" / "bad" / "0" / "metadata.json").read_text())["status"]
    assert status == "failed"
