"""The tabular format: one task's table as ``hyperparameters.parquet``, ``objectives.parquet``
(long layout) and the signed ``metadata.json`` -- writing them, and reading and checking them
back (docs/architecture.md#blackbox-folders).

Example:
    >>> import tempfile, numpy as np, pandas as pd
    >>> from pathlib import Path
    >>> bb = TabularBlackbox(pd.DataFrame({"lr": [0.1, 0.01]}), np.zeros((2, 1, 3, 1), np.float32),
    ...                      fidelity_values=[1, 2, 3], objectives_names=["error"])
    >>> folder = Path(tempfile.mkdtemp())
    >>> sorted(write_folder(bb, folder, name="toy", task="t", source=None, extra=None)["files"])
    ['hyperparameters.parquet', 'objectives.parquet']
    >>> read_metadata(folder)["shape"]
    [2, 1, 3, 1]
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from blackbox_repo.blackbox import BlackboxError, TabularBlackbox
from blackbox_repo.checksums import sha256_bytes, sha256_file
from blackbox_repo.fs import fsync_file, signature, write_signed_json
from blackbox_repo.storage.files import (CANONICAL_FILES, FORMAT_VERSION, HYPERPARAMETERS, METADATA, OBJECTIVES,
                                         CorruptBlackboxError, check_file, default_remedy)

__all__ = ["INDEX_COLUMNS", "ROWS_PER_GROUP", "METADATA_SIGNATURE", "hposim_version", "objective_columns",
           "hyperparameters_table", "write_objectives", "check_jsonable", "metadata_document", "write_folder",
           "read_metadata", "read_hyperparameters", "check_consistency", "read_objectives_into"]

INDEX_COLUMNS = ("config_id", "seed", "fidelity_index")
ROWS_PER_GROUP = 1 << 20
#: the key of ``metadata.json`` holding the sha256 of the rest of the document
METADATA_SIGNATURE = "metadata_sha256"
# keys of metadata.json that describe the stored copy, not the blackbox: not copied into ``extra``
_RESERVED = frozenset({"name", "task", "source", "created", "hposim_version", "format_version",
                       "folder", "files", "metadata_sha256"})


@lru_cache(maxsize=1)
def hposim_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("hposim")
    except PackageNotFoundError:
        return "unknown"



def objective_columns(objectives_names: list[str]) -> tuple[list[str], list[str]]:
    """Index column names (made distinct from the objective names) and value column names."""
    index = []
    for col in INDEX_COLUMNS:
        while col in objectives_names:
            col = "_" + col
        index.append(col)
    return index, list(objectives_names)


def hyperparameters_table(df: pd.DataFrame) -> tuple[pa.Table, list[str]]:
    """Arrow table of the hyperparameters; object columns Arrow cannot type become JSON text."""
    for c in df.columns:
        if not isinstance(c, str):
            raise BlackboxError(f"hyperparameter column names must be strings, got {c!r}")
    json_cols: list[str] = []
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        df = df.copy()
        for c in df.columns:
            try:
                pa.Table.from_pandas(df[[c]], preserve_index=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                try:
                    df[c] = pd.Series([json.dumps(v.item() if isinstance(v, np.generic) else v)
                                       for v in df[c].tolist()], dtype=object)
                except TypeError as e:
                    raise BlackboxError(
                        f"hyperparameter column {c!r} cannot be stored: its values are neither one "
                        f"Arrow type nor JSON-serializable ({e})") from None
                json_cols.append(c)
        table = pa.Table.from_pandas(df, preserve_index=False)
    return table, json_cols


def write_objectives(objectives: np.ndarray, path: Path, index_cols: list[str],
                      value_cols: list[str]) -> None:
    """Write the long-format objectives Parquet file, one row group per ~1M rows."""
    n, s, f, o = objectives.shape
    per_config = max(1, s * f)
    chunk = max(1, ROWS_PER_GROUP // per_config)
    schema = pa.schema([(c, pa.int32()) for c in index_cols] + [(c, pa.float32()) for c in value_cols])
    seed_idx = np.repeat(np.arange(s, dtype=np.int32), f)
    fid_idx = np.tile(np.arange(f, dtype=np.int32), s)
    with pq.ParquetWriter(path, schema, compression="zstd", use_byte_stream_split=value_cols,
                          write_statistics=index_cols) as writer:
        for c0 in range(0, n, chunk):
            c1 = min(n, c0 + chunk)
            block = np.asarray(objectives[c0:c1], dtype=np.float32).reshape(-1, o)
            m = c1 - c0
            arrays = [pa.array(np.repeat(np.arange(c0, c1, dtype=np.int32), per_config)),
                      pa.array(np.tile(seed_idx, m)), pa.array(np.tile(fid_idx, m))]
            arrays += [pa.array(np.ascontiguousarray(block[:, j])) for j in range(o)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=len(block))
        if n == 0:
            writer.write_table(schema.empty_table())


def check_jsonable(value: Any, where: str) -> Any:
    try:
        json.dumps(value, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise BlackboxError(f"{where} is not JSON-serializable ({e}); metadata values must be "
                            f"plain numbers, strings, lists or dicts") from None
    return value


def metadata_document(bb: TabularBlackbox, *, name: str, task: str, source: Any,
                       extra: Mapping[str, Any] | None, json_cols: list[str],
                       index_cols: list[str], value_cols: list[str]) -> dict:
    extras = {k: v for k, v in bb.metadata.items() if k not in _RESERVED}
    extras.update(extra or {})
    for k, v in extras.items():
        check_jsonable(v, f"metadata entry {k!r}")
    if source is None:
        source = bb.metadata.get("source")
    fv = np.asarray(bb.fidelity_values)
    fid_values = [v.item() if isinstance(v, np.generic) else v for v in fv.tolist()]
    for nm in bb.objectives_names:
        if not isinstance(nm, str):
            raise BlackboxError(f"objective names must be strings, got {nm!r}")
    doc = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "task": task,
        "configuration_space": bb.configuration_space.to_dict(),
        "fidelity_name": bb.fidelity_name,
        "fidelity_values": fid_values,
        "fidelity_dtype": fv.dtype.str,
        "objectives_names": list(bb.objectives_names),
        "metric_elapsed_time": bb.metric_elapsed_time,
        "metric": bb.metric,
        "mode": bb.mode,
        "num_seeds": int(bb.num_seeds),
        "shape": [int(x) for x in bb.shape],
        "hyperparameters_json_columns": json_cols,
        "objectives_layout": {"kind": "long", "index_columns": index_cols, "value_columns": value_cols,
                              "dtype": "float32", "order": "C"},
        "source": check_jsonable(source, "source"),
        "extra": extras,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "hposim_version": hposim_version(),
    }
    check_jsonable(doc["configuration_space"], "the configuration space")
    return doc




def write_folder(bb: TabularBlackbox, tmp: Path, *, name: str, task: str, source: Any,
                 extra: Mapping[str, Any] | None,
                 write_extra: Callable[[Path], Iterable[str]] | None = None) -> dict:
    """Write the table's files into ``tmp`` (not yet visible), then ``write_extra(tmp)``'s
    (it returns the names of the files it wrote), then ``metadata.json`` listing every one of
    them with its sha256 and size (what ``verify_folder`` checks); returns the document."""
    table, json_cols = hyperparameters_table(bb.hyperparameters)
    index_cols, value_cols = objective_columns(list(bb.objectives_names))
    doc = metadata_document(bb, name=name, task=task, source=source, extra=extra,
                            json_cols=json_cols, index_cols=index_cols, value_cols=value_cols)
    pq.write_table(table, tmp / HYPERPARAMETERS, compression="zstd")
    write_objectives(bb.objectives, tmp / OBJECTIVES, index_cols, value_cols)
    written = list(CANONICAL_FILES)
    if write_extra is not None:
        written += [f for f in write_extra(tmp) if f not in written]
    files = {}
    for fname in written:
        fsync_file(tmp / fname)
        files[fname] = {"sha256": sha256_file(tmp / fname), "bytes": (tmp / fname).stat().st_size}
    doc["files"] = files
    write_signed_json(tmp / METADATA, doc, METADATA_SIGNATURE, fsync=True)
    return doc


def read_metadata(folder: str | os.PathLike, *, remedy: str | None = None) -> dict:
    """Parse and check ``metadata.json`` of a blackbox folder.

    Raises ``CorruptBlackboxError`` if it is unreadable or does not match its own
    checksum, ``BlackboxError`` if it was written by a newer format.
    """
    path = Path(folder) / METADATA
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BlackboxError(f"{Path(folder)} is not a blackbox folder: {METADATA} is missing") from None
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as e:
        raise CorruptBlackboxError(
            path, f"{path} is corrupt or truncated (not valid JSON: {e}); "
                  f"{remedy or default_remedy(None)}",
            actual=sha256_bytes(raw)) from None
    recorded = doc.get(METADATA_SIGNATURE)
    actual = signature(doc, METADATA_SIGNATURE)
    if recorded != actual:
        raise CorruptBlackboxError(
            path, f"{path} is corrupt: the sha256 of its content is {actual}, expected {recorded} "
                  f"(recorded in the file); {remedy or default_remedy(doc.get('name'))}",
            expected=recorded if isinstance(recorded, str) else None, actual=actual)
    version = doc.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BlackboxError(f"{path} has format_version {version!r}; this hposim reads format "
                            f"versions up to {FORMAT_VERSION}: upgrade hposim")
    return doc



def read_hyperparameters(folder: Path, meta: Mapping[str, Any], remedy: str) -> pd.DataFrame:
    path = folder / HYPERPARAMETERS
    entry = meta["files"][HYPERPARAMETERS]
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorruptBlackboxError(path, f"{path} is missing; {remedy}",
                                   expected=entry.get("sha256")) from None
    check_file(path, data, entry, remedy)
    try:
        df = pq.read_table(pa.BufferReader(data)).to_pandas()
    except (pa.ArrowException, OSError) as e:
        raise CorruptBlackboxError(path, f"{path} cannot be read ({e}); {remedy}") from None
    for c in meta.get("hyperparameters_json_columns", []):
        df[c] = pd.Series([json.loads(v) for v in df[c].tolist()], dtype=object)
    return df


def check_consistency(folder: Path, meta: Mapping[str, Any], hp: pd.DataFrame | None,
                       remedy: str) -> None:
    path = folder / METADATA
    try:
        n, s, f, o = (int(x) for x in meta["shape"])
        problems = []
        if len(meta["fidelity_values"]) != f:
            problems.append(f"{len(meta['fidelity_values'])} fidelity values for {f} levels")
        if len(meta["objectives_names"]) != o:
            problems.append(f"{len(meta['objectives_names'])} objective names for {o} objectives")
        if int(meta["num_seeds"]) != s:
            problems.append(f"num_seeds {meta['num_seeds']} but shape has {s} seeds")
        if hp is not None:
            if len(hp) != n:
                problems.append(f"{HYPERPARAMETERS} has {len(hp)} rows, shape has {n} configs")
            if list(hp.columns) != list(meta["configuration_space"]):
                problems.append(f"{HYPERPARAMETERS} columns {list(hp.columns)} differ from the "
                                f"configuration space {list(meta['configuration_space'])}")
        for fname in (HYPERPARAMETERS, OBJECTIVES):
            if fname not in meta["files"]:
                problems.append(f"no checksum recorded for {fname}")
    except (KeyError, TypeError, ValueError) as e:
        problems = [f"missing or malformed entry ({type(e).__name__}: {e})"]
    if problems:
        raise CorruptBlackboxError(path, f"{path} is inconsistent with the data: "
                                         f"{'; '.join(problems)}; {remedy}")



def read_objectives_into(path: Path, out: np.ndarray, meta: Mapping[str, Any]) -> None:
    """Stream objectives.parquet into ``out`` (n, s, f, o), checking the row order."""
    n, s, f, o = out.shape
    layout = meta["objectives_layout"]
    index_cols, value_cols = list(layout["index_columns"]), list(layout["value_columns"])
    flat = out.reshape(-1, o)
    try:
        pf = pq.ParquetFile(path)
        if pf.metadata.num_rows != n * s * f:
            raise ValueError(f"{pf.metadata.num_rows} rows, expected {n * s * f}")
        pos = 0
        for batch in pf.iter_batches(batch_size=ROWS_PER_GROUP, columns=index_cols + value_cols):
            k = batch.num_rows
            r = np.arange(pos, pos + k, dtype=np.int64)
            expected = (r // max(1, s * f), (r // max(1, f)) % max(1, s), r % max(1, f))
            for col, exp in zip(index_cols, expected):
                got = batch.column(col).to_numpy(zero_copy_only=False)
                if not np.array_equal(got, exp):
                    bad = int(np.flatnonzero(got != exp)[0]) + pos
                    raise ValueError(f"row {bad} has {col}={got[bad - pos]}, expected {exp[bad - pos]}")
            for j, col in enumerate(value_cols):
                flat[pos:pos + k, j] = batch.column(col).to_numpy(zero_copy_only=False)
            pos += k
    except (pa.ArrowException, OSError, ValueError, KeyError) as e:
        raise CorruptBlackboxError(path, f"{path} cannot be converted ({e})") from None
