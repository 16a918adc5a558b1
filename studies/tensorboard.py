"""Export a study to TensorBoard event files (tensorboardX, no torch needed).

Layout under ``out``::

    <benchmark>/<method>/seed-<seed>/trial-<id>/   every metric of the trial against its fidelity
                                                   (wall time = simulated time), plus an hparams
                                                   session: the configuration and its final metric
    <benchmark>/<method>/seed-<seed>/incumbent/    best value so far at each report (wall time =
                                                   simulated time, step = report index)

Open with ``tensorboard --logdir <out>``; the HPARAMS tab lists every trial of the study.

Example:
    >>> export_tensorboard("demo-results/demo", "tb")     # doctest: +SKIP
    80
"""
from __future__ import annotations

import math
import os
from typing import Any, Mapping

import numpy as np

from studies.analysis import load_study
from studies.run_view import RUN_BOOKKEEPING_COLUMNS

__all__ = ["export_tensorboard"]

#: simulated time 0 is placed at this epoch (TensorBoard treats walltime as Unix time)
TIME_ORIGIN = 0.0


class _EventFile:
    """A TensorBoard event file written synchronously (TFRecord framing, no fsync, no thread):
    tensorboardX's writers flush and fsync per writer, far too slow for thousands of trials."""

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
        from tensorboardX.summary import scalar

        self.summary(scalar(tag, value), step, walltime)

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


def export_tensorboard(path: str, out: str, *, storage_options: Mapping[str, Any] | None = None,
                       max_trials_per_run: int | None = None) -> int:
    """Write event files for every done run of the study at ``path``; returns the number of runs."""
    try:
        from tensorboardX.summary import hparams
    except ImportError:
        raise ImportError("exporting to TensorBoard needs tensorboardX: pip install 'hposim[tensorboard]'") from None
    study = load_study(path, storage_options)
    n_runs = 0
    for r in study.done.itertuples(index=False):
        df = study.read_run(r.benchmark, r.method, r.seed)
        if df is None or df.empty:
            continue
        metric, mode = study.metric_of(r.benchmark)
        cols = list(df.columns)
        if "trial_id" in cols and "fidelity" in cols:
            config_cols = cols[cols.index("trial_id") + 1:cols.index("fidelity")]
        else:
            config_cols = []
        metrics = [c for c in cols if c not in config_cols and c not in RUN_BOOKKEEPING_COLUMNS
                   and np.issubdtype(df[c].dtype, np.number)]
        base = os.path.join(out, r.benchmark, r.method, f"seed-{r.seed}")
        # incumbent trajectory
        d = df.sort_values("time", kind="stable")
        v = d[metric].to_numpy(dtype=float)
        fill = np.inf if mode == "min" else -np.inf
        v = np.where(np.isnan(v), fill, v)
        best = np.minimum.accumulate(v) if mode == "min" else np.maximum.accumulate(v)
        with _EventFile(os.path.join(base, "incumbent")) as w:
            for i, (t, b) in enumerate(zip(d["time"].to_numpy(dtype=float), best)):
                if math.isfinite(b):
                    w.scalar(f"incumbent/{metric}", float(b), step=i, walltime=TIME_ORIGIN + t)
        # per-trial curves and hparams sessions
        for k, (tid, g) in enumerate(df.groupby("trial_id", sort=True)):
            if max_trials_per_run is not None and k >= max_trials_per_run:
                break
            with _EventFile(os.path.join(base, f"trial-{int(tid)}")) as w:
                fid = g["fidelity"].to_numpy(dtype=float)
                integer = bool(np.all(fid == np.round(fid)))
                times = g["time"].to_numpy(dtype=float)
                for m in metrics:
                    vals = g[m].to_numpy(dtype=float)
                    for i in range(len(g)):
                        if math.isfinite(vals[i]):
                            step = int(fid[i]) if integer else i
                            w.scalar(m, float(vals[i]), step=step, walltime=TIME_ORIGIN + times[i])
                last = g.iloc[-1]
                final = float(last[metric])
                hp = {c: _hp_value(last[c]) for c in config_cols}
                hp.update(method=r.method, benchmark=r.benchmark, seed=int(r.seed))
                scores = {f"hparam/{metric}": final if math.isfinite(final) else float("nan"),
                          "hparam/fidelity": float(last["fidelity"])}
                exp, ssi, sei = hparams(hp, scores)
                for summ in (exp, ssi, sei):
                    w.summary(summ)
                for k2, val in scores.items():
                    w.scalar(k2, val, walltime=TIME_ORIGIN + float(last["time"]))
        n_runs += 1
    return n_runs
