"""The outcome of a simulated run and its Parquet file.

``SimulationResult.results``: one row per report (trial_id, hyperparameters, fidelity,
objectives, time, worker, decision, blackbox_seed, decision_time), sorted by
(time, worker, trial_id, fidelity). ``.trials``: one row per trial. ``.metadata``: a
JSON-able dict (settings, seed, versions, n_trials, n_reports, wall_seconds, ...).

The Parquet file holds the results table; the metadata JSON is stored in the file's
key-value metadata under ``b"hposim"`` and the trials table (itself Parquet, base64) under
``b"hposim.trials"``, so one file carries the whole run.

Example:
    >>> import pandas as pd, tempfile, os
    >>> r = SimulationResult(pd.DataFrame({"trial_id": [0], "time": [1.0]}),
    ...                      pd.DataFrame({"trial_id": [0]}), {"seed": 0})
    >>> path = os.path.join(tempfile.mkdtemp(), "run.parquet")
    >>> r.to_parquet(path)
    >>> SimulationResult.read_parquet(path).metadata["seed"]
    0
"""
from __future__ import annotations

import base64
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from blackbox_repo.fs import json_safe

__all__ = ["SimulationResult", "encode_run", "decode_run", "METADATA_KEY", "TRIALS_KEY", "DECISIONS",
           "STATUSES"]

METADATA_KEY = b"hposim"
TRIALS_KEY = b"hposim.trials"

#: values of ``results.decision`` (category order)
DECISIONS = ("continue", "pause", "stop", "complete", "failed")
#: values of ``trials.status``
STATUSES = ("running", "paused", "completed", "stopped", "failed")


def encode_run(results: pd.DataFrame, trials: pd.DataFrame | None = None,
               metadata: Mapping[str, Any] | None = None) -> bytes:
    """One run as the bytes of its Parquet file (zstd): the ``results`` table, ``metadata`` as
    JSON under the key-value key ``hposim`` and ``trials`` (Parquet, base64) under ``hposim.trials``.

    Example:
        >>> data = encode_run(pd.DataFrame({"trial_id": [0], "loss": [0.5]}), None, {"metric": "loss"})
        >>> decode_run(data).metadata, len(decode_run(data).trials)
        ({'metric': 'loss'}, 0)
    """
    table = pa.Table.from_pandas(results, preserve_index=False)
    kv = dict(table.schema.metadata or {})
    kv[METADATA_KEY] = json.dumps(json_safe(dict(metadata or {}), infinity="string"), sort_keys=True).encode()
    if trials is not None:
        tbuf = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(trials, preserve_index=False), tbuf, compression="zstd")
        kv[TRIALS_KEY] = base64.b64encode(tbuf.getvalue())
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(kv), buf, compression="zstd")
    return buf.getvalue()


def decode_run(source: bytes | str | os.PathLike | BinaryIO, name: str = "") -> "SimulationResult":
    """The run in a file written by ``encode_run``: bytes, a local path, or an open binary file.

    A Parquet file without the ``hposim`` key is not a run (``ValueError`` naming ``name``)."""
    table = pq.read_table(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    kv = table.schema.metadata or {}
    if METADATA_KEY not in kv:
        label = name or (str(source) if isinstance(source, (str, os.PathLike)) else "the file")
        raise ValueError(f"{label} is not an hposim run file: no {METADATA_KEY!r} key-value metadata")
    metadata = json.loads(kv[METADATA_KEY])
    trials = pd.DataFrame()
    if TRIALS_KEY in kv:
        trials = pq.read_table(io.BytesIO(base64.b64decode(kv[TRIALS_KEY]))).to_pandas()
    return SimulationResult(table.to_pandas(), trials, metadata)


@dataclass
class SimulationResult:
    """Results table, trials table and metadata of one simulated run.

    Example:
        >>> import pandas as pd
        >>> r = SimulationResult(pd.DataFrame({"loss": [0.3, 0.1]}), pd.DataFrame(),
        ...                      {"metric": "loss", "mode": "min"})
        >>> r.best()
        0.1
    """

    results: pd.DataFrame
    trials: pd.DataFrame
    metadata: dict = field(default_factory=dict)

    def best(self, metric: str | None = None, mode: str | None = None) -> float:
        """Best value of ``metric`` over all reports (NaN when there is none)."""
        metric = metric or self.metadata.get("metric")
        mode = mode or self.metadata.get("mode", "min")
        if metric is None or metric not in self.results.columns:
            raise KeyError(f"metric {metric!r} is not a column of the results: {list(self.results.columns)}")
        col = self.results[metric].to_numpy(dtype=float)
        col = col[~np.isnan(col)]
        if not len(col):
            return math.nan
        return float(col.min() if mode == "min" else col.max())

    def summary(self) -> str:
        """A few lines: trials, reports, best metric, wall time."""
        md = self.metadata
        metric = md.get("metric")
        try:
            best = self.best()
        except KeyError:
            best = math.nan
        return (f"{md.get('method', {}).get('name', 'scheduler')} on {md.get('blackbox', {}).get('label', '?')}: "
                f"{md.get('n_trials', len(self.trials))} trials, {md.get('n_reports', len(self.results))} reports, "
                f"best {metric} = {best:.6g} ({md.get('mode', 'min')}), "
                f"simulated time {md.get('end_time', math.nan):.6g} s, "
                f"wall time {md.get('wall_seconds', math.nan) * 1000:.1f} ms "
                f"(ended by {md.get('end_reason', '?')})")

    # ------------------------------------------------------------------ Parquet
    def to_parquet(self, path: str | os.PathLike, *, overwrite: bool = True) -> None:
        """Write the results table, with metadata and trials in the key-value metadata.

        The file is written beside ``path`` and moved into place, so ``path`` is either the
        old file or the whole new one; nothing is left behind when writing fails. With
        ``overwrite=False`` an existing ``path`` is never replaced (``FileExistsError``), even
        if it appears while the file is being written. A directory is never replaced."""
        data = encode_run(self.results, self.trials, self.metadata)
        path = Path(path)
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a directory; give a file path, e.g. {path / 'run.parquet'}")
        if not overwrite and os.path.lexists(path):
            raise FileExistsError(f"{path} exists; it is not overwritten")
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(data)
            if overwrite:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)   # fails if path exists: no check-then-write race
                except FileExistsError:
                    raise
                except OSError:          # no hard links here: check, then move
                    if os.path.lexists(path):
                        raise FileExistsError(path) from None
                    os.replace(tmp, path)
        except FileExistsError:
            raise FileExistsError(f"{path} exists (it appeared while the run was written); it is not "
                                  f"overwritten") from None
        finally:
            if tmp.exists():
                tmp.unlink()

    @classmethod
    def read_parquet(cls, path: str | os.PathLike) -> "SimulationResult":
        """Read a file written by ``to_parquet`` (or a study run's ``results.parquet``)."""
        run = decode_run(path)
        return cls(run.results, run.trials, run.metadata)
