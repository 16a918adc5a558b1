"""Study storage details not covered by the runner tests: replacing a run never loses it."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pandas as pd

from simulator.results import encode_run
from studies.layout import RESULTS, RUN_FORMAT, StudyStore


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_replacement_killed_between_its_renames_restores_the_old_run(tmp_path):
    store = StudyStore(str(tmp_path), "s")
    data = encode_run(pd.DataFrame({"trial_id": [0], "loss": [0.5]}))
    store.write_run("b", "A", 0, {"format": RUN_FORMAT, "status": "done", "tag": "old"}, data)
    store.write_run("b", "A", 1, {"format": RUN_FORMAT, "status": "done", "tag": "old"}, data)
    parent = tmp_path / "s" / "b" / "A"
    # a writer (now dead) moved run 0 aside and died before moving its new folder in; for run 1
    # it had completed the replacement but not yet removed the old folder
    tag = f"{socket.gethostname()}-{_dead_pid()}-0123abcd"
    os.rename(parent / "0", parent / f".old-0-{tag}")
    (parent / f".tmp-0-{tag}").mkdir()
    (parent / f".tmp-0-{tag}" / RESULTS).write_bytes(b"partial")
    (parent / f".old-1-{tag}").mkdir()
    assert store.read_states().keys() == {("b", "A", 1)}
    store.cleanup_temporaries()
    assert sorted(os.listdir(parent)) == ["0", "1"]
    states = store.read_states(verify=True)
    assert {k: st.status for k, st in states.items()} == {("b", "A", 0): "done", ("b", "A", 1): "done"}
    assert json.loads((parent / "0" / "metadata.json").read_text())["tag"] == "old"
