"""Export a study to TensorBoard event files (tensorboardX, no torch needed): one file per run.

Layout under ``out``: one event file per run, ``<benchmark>/<method>/seed-<seed>/events.out.tfevents.*``
(a TensorBoard "run" per hposim run), holding

- ``incumbent/<metric>``: the best value so far, step = number of evaluations (reports) so far,
  wall time = simulated time (TensorBoard's STEP axis counts evaluations, its WALL axis is
  simulated time); written where it improves, with the value before each improvement, so the
  curve keeps its steps;
- ``trials/<metric>`` (every numeric metric) and ``trials/fidelity``: each trial's last report,
  step = trial id, wall time = the time of that report;
- ``trial-<id>/<metric>``: the learning curves (step = fidelity) of the ``trial_curves`` best
  trials (default 5);
- an hparams session: method, benchmark, seed and the best configuration, with the run's best
  value and number of trials, so the HPARAMS tab compares runs.

Open with ``tensorboard --logdir <out>``.

Example:
    >>> export_tensorboard("demo-results/demo", "tb")     # doctest: +SKIP
    80
"""
from __future__ import annotations

import math
import os
from typing import Any, Mapping

import numpy as np
import pandas as pd

from studies.analysis import load_study
from studies.run_view import RUN_BOOKKEEPING_COLUMNS

__all__ = ["export_tensorboard", "TRIAL_CURVES"]

#: simulated time 0 is placed at this epoch (TensorBoard treats walltime as Unix time)
TIME_ORIGIN = 0.0
#: learning curves written per run by default: those of its best trials
TRIAL_CURVES = 5


class _EventFile:
    """A TensorBoard event file written synchronously (TFRecord framing, no fsync, no thread):
    tensorboardX's writers flush and fsync per writer, far too slow for thousands of runs."""

    def __init__(self, logdir: str):
        import socket
        import time

        from tensorboardX.proto import event_pb2

        self._pb = event_pb2
        os.makedirs(logdir, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.hposim"
        self._f = open(os.path.join(logdir, name), "wb")
        self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def _write(self, event: Any) -> None:
        import struct

        from tensorboardX.record_writer import masked_crc32c

        data = event.SerializeToString()
        header = struct.pack("<Q", len(data))
        self._f.write(header + struct.pack("<I", masked_crc32c(header)) + data
                      + struct.pack("<I", masked_crc32c(data)))

    def summary(self, summary: Any, step: int = 0, walltime: float = 0.0) -> None:
        self._write(self._pb.Event(wall_time=walltime, step=step, summary=summary))

    def scalar(self, tag: str, value: float, step: int = 0, walltime: float = 0.0) -> None:
        """One scalar (a ``simple_value`` summary: what TensorBoard's scalar charts read)."""
        from tensorboardX.proto.summary_pb2 import Summary

        self.summary(Summary(value=[Summary.Value(tag=tag, simple_value=float(value))]), step, walltime)

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "_EventFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _hp_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def _incumbent_points(best: np.ndarray) -> np.ndarray:
    """Indices to write of a best-so-far curve: the first finite value, every improvement with
    the value just before it (so a line through the points keeps the steps), and the last."""
    finite = np.isfinite(best)
    if not finite.any():
        return np.array([], dtype=int)
    change = np.flatnonzero(finite[1:] & (best[1:] != best[:-1])) + 1
    keep = {int(np.argmax(finite)), len(best) - 1}
    keep.update(int(c) for c in change)
    keep.update(int(c) - 1 for c in change if finite[c - 1])
    return np.array(sorted(keep), dtype=int)


def _write_run(w: _EventFile, df: pd.DataFrame, r: Any, metric: str, mode: str, trial_curves: int) -> None:
    cols = list(df.columns)
    if "trial_id" in cols and "fidelity" in cols:
        config_cols = cols[cols.index("trial_id") + 1:cols.index("fidelity")]
    else:
        config_cols = []
    metrics = [c for c in cols if c not in config_cols and c not in RUN_BOOKKEEPING_COLUMNS
               and np.issubdtype(df[c].dtype, np.number)]
    d = df.sort_values("time", kind="stable").reset_index(drop=True)
    times = d["time"].to_numpy(dtype=float)
    sign = 1.0 if mode == "min" else -1.0
    v = d[metric].to_numpy(dtype=float)
    best = sign * np.minimum.accumulate(np.where(np.isnan(v), np.inf, sign * v))
    for i in _incumbent_points(best):
        w.scalar(f"incumbent/{metric}", float(best[i]), step=int(i) + 1, walltime=TIME_ORIGIN + times[i])
    last = d.groupby("trial_id", sort=True).tail(1)
    for row in last.itertuples(index=False):
        t = TIME_ORIGIN + float(row.time)
        rec = row._asdict()
        for m in metrics:
            val = float(rec[m])
            if math.isfinite(val):
                w.scalar(f"trials/{m}", val, step=int(row.trial_id), walltime=t)
        w.scalar("trials/fidelity", float(row.fidelity), step=int(row.trial_id), walltime=t)
    # learning curves of the best trials (by each trial's best value)
    score = d.assign(_s=sign * np.where(np.isnan(v), np.inf, v)).groupby("trial_id")["_s"].min()
    for tid in score.sort_values(kind="stable").index[:max(0, int(trial_curves))]:
        g = d[d["trial_id"] == tid]
        fid = g["fidelity"].to_numpy(dtype=float)
        integer = bool(np.all(fid == np.round(fid)))
        gt = g["time"].to_numpy(dtype=float)
        for m in metrics:
            vals = g[m].to_numpy(dtype=float)
            for k in range(len(g)):
                if math.isfinite(vals[k]):
                    w.scalar(f"trial-{int(tid)}/{m}", float(vals[k]), step=int(fid[k]) if integer else k,
                             walltime=TIME_ORIGIN + gt[k])
    # the run as one hparams session: method, benchmark, seed and its best configuration
    from tensorboardX.summary import hparams

    ok = np.isfinite(v)
    hp: dict[str, Any] = {"method": r.method, "benchmark": r.benchmark, "seed": int(r.seed)}
    scores = {f"hparam/best_{metric}": float("nan"), "hparam/n_trials": float(d["trial_id"].nunique()),
              "hparam/n_evaluations": float(len(d))}
    if ok.any():
        i = int(np.nanargmin(sign * v))
        hp.update({f"best/{c}": _hp_value(d[c].iloc[i]) for c in config_cols})
        scores[f"hparam/best_{metric}"] = float(v[i])
    for summ in hparams(hp, scores):
        w.summary(summ)
    end = TIME_ORIGIN + (float(times[-1]) if len(times) else 0.0)
    for tag, val in scores.items():
        w.scalar(tag, val, walltime=end)


def export_tensorboard(path: str, out: str, *, storage_options: Mapping[str, Any] | None = None,
                       trial_curves: int = TRIAL_CURVES) -> int:
    """Write one event file per done run of the study at ``path`` (see the module's docstring);
    ``trial_curves``: how many of each run's best trials get their learning curves (0: none).
    Returns the number of runs written."""
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        raise ImportError("exporting to TensorBoard needs tensorboardX: pip install 'hposim[tensorboard]'") from None
    study = load_study(path, storage_options)
    n_runs = 0
    for r in study.done.itertuples(index=False):
        df = study.read_run(r.benchmark, r.method, r.seed)
        if df is None or df.empty:
            continue
        metric, mode = study.metric_of(r.benchmark)
        with _EventFile(os.path.join(out, r.benchmark, r.method, f"seed-{r.seed}")) as w:
            _write_run(w, df, r, metric, mode, trial_curves)
        n_runs += 1
    return n_runs
