"""TensorBoard export: one event file per run, and what it holds is the run's numbers."""
from __future__ import annotations

import struct
from collections import defaultdict

import numpy as np
import pytest

pytest.importorskip("tensorboardX")

from studies import Study, run_study  # noqa: E402
from studies.analysis import load_study  # noqa: E402
from studies.tensorboard import _incumbent_points, export_tensorboard  # noqa: E402
from fakes import fake_run, fake_study_dict  # noqa: E402


def _scalars(path) -> dict[str, list[tuple[int, float, float]]]:
    """tag -> [(step, wall_time, value)] of every simple-value summary in an event file."""
    from tensorboardX.proto import event_pb2

    data, i, out = path.read_bytes(), 0, defaultdict(list)
    while i < len(data):
        (length,) = struct.unpack("<Q", data[i:i + 8])
        ev = event_pb2.Event()
        ev.ParseFromString(data[i + 12:i + 12 + length])
        for v in ev.summary.value:
            if v.WhichOneof("value") == "simple_value":
                out[v.tag].append((ev.step, ev.wall_time, v.simple_value))
        i += 16 + length
    return out


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("tb")
    s = run_study(Study.from_dict(fake_study_dict(seeds=2, max_trials=10)), str(root), run_fn=fake_run,
                  validate=False, progress=False)
    assert s.ok
    return str(root / "fake")


def test_one_file_per_run_holding_the_runs_numbers(study, tmp_path):
    assert export_tensorboard(study, str(tmp_path / "tb")) == 8
    files = [p for p in (tmp_path / "tb").rglob("*") if p.is_file()]
    assert len(files) == 8 and all(p.name.startswith("events.out.tfevents.") for p in files)
    st = load_study(study)
    df = st.read_run("b1", "A", 1).sort_values("time", kind="stable").reset_index(drop=True)
    [path] = (tmp_path / "tb" / "b1" / "A" / "seed-1").iterdir()
    tags = _scalars(path)
    # the incumbent, read as TensorBoard draws it (steps = evaluations), is the best so far everywhere
    best = np.minimum.accumulate(df["valid_error"].to_numpy())
    inc = tags["incumbent/valid_error"]
    assert len(inc) < len(df)
    for n in range(1, len(df) + 1):
        step, wall, value = [p for p in inc if p[0] <= n][-1]
        assert value == pytest.approx(best[n - 1], rel=1e-6)
    assert [w for s, w, _ in inc] == pytest.approx([df["time"].iloc[s - 1] for s, _, _ in inc])
    # each trial's last report
    last = df.groupby("trial_id").tail(1).set_index("trial_id")
    got = {s: v for s, _, v in tags["trials/valid_error"]}
    assert got == pytest.approx(last["valid_error"].to_dict(), rel=1e-6)
    assert {s: v for s, _, v in tags["trials/fidelity"]} == {t: 3.0 for t in range(10)}
    # learning curves of the 5 best trials, by their best value
    order = df.groupby("trial_id")["valid_error"].min().sort_values().index[:5]
    curves = {int(t.split("/")[0][6:]) for t in tags if t.startswith("trial-")}
    assert curves == set(order)
    assert tags["hparam/best_valid_error"][0][2] == pytest.approx(df["valid_error"].min(), rel=1e-6)


def test_no_learning_curves_on_request(study, tmp_path):
    export_tensorboard(study, str(tmp_path / "tb"), trial_curves=0)
    [path] = (tmp_path / "tb" / "b2" / "B" / "seed-0").iterdir()
    assert not any(t.startswith("trial-") for t in _scalars(path))


def test_incumbent_points_keep_the_steps():
    best = np.array([np.inf, 5.0, 5.0, 5.0, 3.0, 3.0, 1.0, 1.0])
    assert _incumbent_points(best).tolist() == [1, 3, 4, 5, 6, 7]
    assert _incumbent_points(np.array([np.inf, np.inf])).tolist() == []
