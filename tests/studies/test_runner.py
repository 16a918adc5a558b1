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


def test_corrupt_runs_are_marked_and_foreign_files_skipped_with_a_warning(tmp_path):
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
    assert "b1/A/0 is corrupt: metadata.json cannot be read" in text and "b2/other/0" in text
    assert "b1/B/0 is corrupt: results.parquet is missing or truncated (9 bytes" in text
    assert {k: st.status for k, st in states.items()} == {("b1", "A", 0): "corrupt", ("b1", "B", 0): "corrupt",
                                                         ("b2", "A", 0): "done", ("b2", "B", 0): "done"}
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


def test_progress_bar_on_a_terminal_and_lines_otherwise():
    from studies.progress import Progress

    out = io.StringIO()
    p = Progress(total=3, stream=out, bar=True)
    for status in ("done", "failed", "done"):
        p.update("b/m/0", status, 0.1)
    p.close()
    text = out.getvalue()
    assert "3/3" in text and "failed=1" in text and "done=2" in text
    out = io.StringIO()
    p = Progress(total=2, stream=out)          # a StringIO is not a TTY: plain lines
    p.update("b/m/0", "done", 0.1)
    p.update("b/m/1", "done", 0.1)
    assert out.getvalue().splitlines()[0].startswith("[1/2] done   b/m/0") and "ETA" in out.getvalue()


def test_status_shows_done_failed_running_missing(tmp_path):
    from studies.status import format_status, study_status

    d = fake_study_dict(seeds=2, methods={"A": {"method": "RandomSearch"},
                                          "B": {"method": "RandomSearch", "crash": True}})
    _run(tmp_path, d)
    store = StudyStore(str(tmp_path), "fake")
    store.mark_running("b1", "B", 1)                       # this (live) process runs it
    # the spec grows: a new seed is missing
    d["seeds"] = 3
    store.write_spec(Study.from_dict(d).to_yaml())
    table = study_status(str(tmp_path / "fake"))
    counts = table["status"].value_counts().to_dict()
    assert counts == {"done": 4, "failed": 3, "running": 1, "missing": 4}
    text = format_status(table)
    assert text.startswith("12 runs: 4 done, 3 failed, 1 running, 4 missing") and "failed b2/B/0" in text


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True])
def test_jobs_must_be_a_positive_integer(tmp_path, jobs):
    from blackbox_repo.errors import InputError

    with pytest.raises(InputError, match="--jobs"):
        _run(tmp_path / "r", fake_study_dict(seeds=1), engine="local", jobs=jobs)
    assert not (tmp_path / "r").exists()


def test_cli_jobs_zero_is_a_usage_error(tmp_path, capsys):
    from studies.cli import main

    p = tmp_path / "s.yaml"
    p.write_text("name: x\nseeds: 1\nmethods: {RS: RandomSearch}\nbenchmarks: {b: {blackbox: toy/t1, max_trials: 2}}\n")
    for bad in ("0", "-1", "two"):
        assert main(["study", "run", str(p), "--root", str(tmp_path / "r"), "--jobs", bad]) == 2
        assert "--jobs must be a positive integer" in capsys.readouterr().err


def test_jobs_1000_for_two_runs_starts_at_most_two_workers(tmp_path):
    s = _run(tmp_path, fake_study_dict(seeds=1, methods={"A": {"method": "RandomSearch"}}, max_trials=2),
             engine="local", jobs=1000)
    assert s.ok and s.done == 2
    pids = {json.loads(p.read_text())["pid"] for p in (tmp_path / "fake").rglob("metadata.json")}
    assert len(pids) <= 2, pids


@pytest.mark.timing
def test_jobs_1000_for_two_runs_takes_under_a_minute(tmp_path):
    import time

    t0 = time.perf_counter()
    s = _run(tmp_path, fake_study_dict(seeds=1, methods={"A": {"method": "RandomSearch"}}, max_trials=2),
             engine="local", jobs=1000)
    wall = time.perf_counter() - t0
    assert s.ok and wall < 60, wall                       # 1000 loky workers took minutes


_CONCURRENT = """
import sys
sys.path.insert(0, {here!r})
from fakes import fake_run, fake_study_dict
from studies import Study, run_study
d = fake_study_dict(name="twice", seeds=10, max_trials=4,
                    methods={{"A": {{"method": "RandomSearch", "sleep": 0.2, "log": {log!r}}},
                              "B": {{"method": "RandomSearch", "sleep": 0.2, "log": {log!r}}}}})
s = run_study(Study.from_dict(d), {root!r}, engine={engine!r}, jobs=2, run_fn=fake_run, validate=False,
              progress=False)
print(s.done, len(s.elsewhere), len(s.failures))
sys.exit(0 if s.ok else 1)
"""


def test_three_concurrent_study_runs_compute_each_run_once(tmp_path):
    """Three real `study run` processes on one root: every run is computed exactly once."""
    import subprocess
    import sys
    from pathlib import Path

    log = tmp_path / "computed.log"
    code = _CONCURRENT.format(here=str(Path(__file__).parent), log=str(log), root=str(tmp_path / "r"),
                              engine="serial")
    code_local = code.replace("engine='serial'", "engine='local'")
    procs = [subprocess.Popen([sys.executable, "-c", c], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for c in (code_local, code, code)]       # loky's workers take longer to start
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()
    names = [line.split()[0] for line in log.read_text().splitlines()]
    assert len(names) == 40 and len(set(names)) == 40, sorted(n for n in set(names) if names.count(n) > 1)
    done = [int(out.split()[0]) for out, _ in outs]
    assert sum(done) == 40 and sorted(done)[1] > 0, outs      # they shared the work, nothing twice
    states = StudyStore(str(tmp_path / "r"), "twice").read_states(verify=True)
    assert len(states) == 40 and all(st.status == "done" for st in states.values())


_HOLD = """
import sys, time
from studies.layout import StudyStore
claim = StudyStore({root!r}, "fake").claim("b1", "A", 0)
print("held" if claim else "refused", flush=True)
time.sleep(120)
"""


def test_a_live_claim_is_respected_and_a_dead_ones_taken_over(tmp_path):
    import signal
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", _HOLD.format(root=str(tmp_path))], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        s = _run(tmp_path, fake_study_dict(seeds=1))
        assert s.ok and s.done == 3 and [(o.name, o.status) for o in s.elsewhere] == [("b1/A/0", "elsewhere")]
        assert f"pid {holder.pid}" in s.elsewhere[0].error and "1 left to another process" in s.format()
        assert not (tmp_path / "fake" / "b1" / "A" / "0").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    marker = tmp_path / "fake" / "_running" / "b1" / "A" / "0.json"
    assert json.loads(marker.read_text())["pid"] == holder.pid           # a stale claim of a dead process
    s = _run(tmp_path, fake_study_dict(seeds=1))
    assert s.ok and [o.name for o in s.outcomes] == ["b1/A/0"] and s.done == 1   # taken over


def test_status_ignores_another_hosts_claim_nobody_holds(tmp_path):
    """A claim file left on a shared disk by a crashed machine is not 'running' forever."""
    from studies.status import study_status

    _run(tmp_path, fake_study_dict(seeds=1))
    marker = tmp_path / "fake" / "_running" / "b1" / "A" / "7.json"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"host": "crashed-machine", "pid": 4242, "started": 0}))
    store = StudyStore(str(tmp_path), "fake")
    assert ("b1", "A", 7) not in store.running()
    claim = store.claim("b1", "A", 8)               # a held claim (host rewritten as another machine's)
    (tmp_path / "fake" / "_running" / "b1" / "A" / "8.json").write_text(
        json.dumps({"host": "busy-machine", "pid": 1, "started": 0}))
    try:
        assert ("b1", "A", 8) in store.running()
    finally:
        claim.release()
    table = study_status(str(tmp_path / "fake"))
    assert set(table["status"]) == {"done"}


def test_claims_fall_back_to_markers_where_flock_is_unsupported(tmp_path, monkeypatch):
    """Some network filesystems refuse flock (ENOLCK): claims still work, as pid-checked markers."""
    import errno
    import fcntl

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    store = StudyStore(str(tmp_path), "fake")
    claim = store.claim("b1", "A", 0)
    assert claim is not None and store.claim("b1", "A", 0) is None
    s = _run(tmp_path, fake_study_dict(seeds=1))
    assert s.ok and [o.name for o in s.elsewhere] == ["b1/A/0"] and s.done == 3
    claim.release()
    assert store.claim("b1", "A", 0) is not None
