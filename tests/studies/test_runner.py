"""Runner and storage with a stand-in run function (the simulator's numbers do not matter here)."""
from __future__ import annotations

import io
import json
import os

import pytest

from studies.layout import StudyStore
from studies.runner import make_batches, run_study
from studies.spec import Study
from fakes import fake_run, fake_study_dict


def _run(root, d, **kw):
    kw.setdefault("progress", False)
    return run_study(Study.from_dict(d), str(root), run_fn=fake_run, validate=False, **kw)


def test_layout_and_skip_done(tmp_path):
    s = _run(tmp_path, fake_study_dict())
    assert s.ok and s.done == 12 and s.skipped == 0
    run_dir = tmp_path / "fake" / "b1" / "A" / "0"
    assert sorted(os.listdir(run_dir)) == ["metadata.json", "results.parquet"]
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert meta["status"] == "done" and meta["run"]["seed"] == 0
    assert meta["versions"]["python"] and meta["files"]["results.parquet"]["sha256"]
    assert (tmp_path / "fake" / "study.yaml").exists()
    assert not (tmp_path / "fake" / "_running").exists() or not any((tmp_path / "fake" / "_running").rglob("*.json"))
    again = _run(tmp_path, fake_study_dict())
    assert again.skipped == 12 and again.outcomes == []


def test_failures_recorded_others_continue_then_retried(tmp_path):
    d = fake_study_dict(methods={"ok": {"method": "RandomSearch"}, "bad": {"method": "RandomSearch", "crash": True}})
    out = io.StringIO()
    s = _run(tmp_path, d, progress=True, stream=out)   # stream is not a TTY: plain lines
    assert not s.ok and s.done == 6 and len(s.failures) == 6
    assert "crashed on purpose" in s.format() and "6 failed" in s.format()
    lines = out.getvalue().splitlines()
    assert len(lines) == 12 and lines[-1].startswith("[12/12]")
    meta = json.loads((tmp_path / "fake" / "b2" / "bad" / "1" / "metadata.json").read_text())
    assert meta["status"] == "failed" and "Traceback" in meta["error"]["traceback"]
    assert "RuntimeError" in meta["error"]["traceback"]
    # the method is fixed: rerun computes only the failed cells
    d["methods"]["bad"] = {"method": "RandomSearch"}
    s2 = _run(tmp_path, d)
    assert s2.ok and s2.skipped == 6 and s2.done == 6
    states = StudyStore(str(tmp_path), "fake").read_states()
    assert len(states) == 12 and all(st.status == "done" for st in states.values())


def test_corrupt_and_foreign_files_are_skipped_with_a_warning(tmp_path):
    _run(tmp_path, fake_study_dict(seeds=1))
    base = tmp_path / "fake"
    (base / "b1" / "A" / "0" / "metadata.json").write_text("{not json")
    (base / "b1" / "B" / "0" / "results.parquet").write_bytes(b"truncated")
    foreign = base / "b2" / "other" / "0"
    foreign.mkdir(parents=True)
    (foreign / "metadata.json").write_text(json.dumps({"hello": "world"}))
    store = StudyStore(str(tmp_path), "fake")
    with pytest.warns(UserWarning) as rec:
        states = store.read_states()
    text = " ".join(str(w.message) for w in rec)
    assert "b1/A/0/metadata.json" in text and "b1/B/0/results.parquet" in text and "b2/other/0" in text
    assert set(states) == {("b2", "A", 0), ("b2", "B", 0)}
    with pytest.warns(UserWarning):
        s = _run(tmp_path, fake_study_dict(seeds=1))
    assert s.done == 2 and s.ok     # the two damaged runs are recomputed


def test_local_engine_batches(tmp_path):
    s = _run(tmp_path, fake_study_dict(seeds=4), engine="local", jobs=2)
    assert s.ok and s.done == 16
    pids = {json.loads(p.read_text())["pid"] for p in (tmp_path / "fake").rglob("metadata.json")}
    assert os.getpid() not in pids


def test_make_batches_groups_by_benchmark():
    runs = Study.from_dict(fake_study_dict(seeds=5)).runs()
    batches = make_batches(runs, jobs=2, max_batch=3)
    assert all(len({r.benchmark for r in b}) == 1 for b in batches)
    assert sorted(r.key for b in batches for r in b) == sorted(r.key for r in runs)
    assert max(len(b) for b in batches) <= 3


def test_unwritable_root_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    from studies.layout import StorageError
    with pytest.raises(StorageError, match="file"):
        _run(blocker / "sub", fake_study_dict())
