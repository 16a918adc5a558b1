"""Import user tables (long format) as tabular blackboxes.

A long table has one row per task x configuration x fidelity x seed: some columns hold the
hyperparameters, optional columns hold the fidelity (e.g. ``epoch``), the seed and the task
(e.g. ``dataset``), and the remaining numeric columns are objectives. ``from_dataframe``
scatters the rows into the ``(n_configs, n_seeds, n_fidelities, n_objectives)`` array of a
``TabularBlackbox``; ``import_table`` does the same for a CSV or Parquet file and returns the
blackboxes together with an ``ImportReport``.

Everything is vectorized (``pandas.factorize`` and numpy scatter), so tables with millions of
rows import in seconds. Rules:

* Configurations are ordered by their hyperparameter values, fidelities ascending, seeds by
  their sorted values (seeds become indices ``0..n_seeds-1``; the original values are kept in
  ``metadata["seed_values"]``). The row order of the input does not matter.
* Combinations without a row become NaN ("evaluation missing") and are counted in the report.
* Two rows with the same (task, configuration, fidelity, seed) are an error naming the rows
  (0-based positions in the input table).
* The elapsed-time objective must be non-decreasing along the fidelity for every
  (configuration, seed); ``repair_elapsed_time=True`` replaces it by its cumulative maximum
  and the report counts the repaired cells. It must be >= 0 and finite (NaN = missing).
* Objective values are stored as float32: infinities and finite values beyond float32's range
  (e.g. ``1e300``) are errors naming the rows (a NaN, i.e. an empty cell, is a failed or
  missing evaluation and is counted in the report). Every stored cell equals the input value
  rounded to float32, or is NaN where the input has no row.
* The metric may not be named like a column the simulator adds to its results (``time``,
  ``fidelity``, ... see ``blackbox_repo.reserved_columns``); other objectives named so are
  renamed in simulation results (``objective_<name>``), which the report notes.
* The report also notes a config column mixing numbers and text (its values are all kept
  as text) and an objective that is NaN in every cell of a task.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"lr": [0.1, 0.1, 0.01, 0.01], "epoch": [1, 2, 1, 2],
    ...                    "error": [0.5, 0.4, 0.6, 0.3], "time": [1.0, 2.0, 1.5, 3.0]})
    >>> bb = from_dataframe(df, config_cols=["lr"], fidelity_col="epoch",
    ...                     elapsed_time_col="time", metric="error")
    >>> bb.shape
    (2, 1, 2, 2)
    >>> bb.evaluate({"lr": 0.01}, fidelity=2)["error"]
    0.3...
"""
from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import BlackboxError, TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace
from blackbox_repo.objective_values import FLOAT32_MAX, unstorable
from blackbox_repo.reserved_columns import RESULT_COLUMNS, reserved_metric_error

__all__ = ["from_dataframe", "import_table", "ImportResult", "ImportReport", "TaskImportReport",
           "TableImportError", "read_table", "TABLE_SUFFIXES"]

#: file suffixes ``import_table`` understands, by reader
TABLE_SUFFIXES = {
    ".csv": "csv", ".csv.gz": "csv", ".csv.bz2": "csv", ".csv.xz": "csv", ".csv.zip": "csv",
    ".parquet": "parquet", ".pq": "parquet",
}
DEFAULT_TASK = "default"
_MAX_SHOWN = 5


class TableImportError(BlackboxError):
    """The table cannot be imported (missing column, bad values, duplicates, ...)."""


@dataclass
class TaskImportReport:
    """What the import of one task found.

    ``missing_cells`` counts (config, seed, fidelity) combinations without a row (their
    objectives are NaN); ``nan_values`` counts NaN objective values present in the input;
    ``repaired_cells`` counts elapsed-time values raised to their cumulative maximum.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"lr": [0.1, 0.1, 0.01], "epoch": [1, 2, 1], "error": [0.5, 0.4, 0.6]})
        >>> task = import_table(df, config_cols=["lr"], fidelity_col="epoch").report.tasks["default"]
        >>> task.n_configs, task.n_fidelities, task.n_cells, task.missing_cells
        (2, 2, 4, 1)
    """

    task: str
    n_rows: int
    n_configs: int
    n_seeds: int
    n_fidelities: int
    n_objectives: int
    missing_cells: int
    nan_values: int = 0
    repaired_cells: int = 0

    @property
    def n_cells(self) -> int:
        return self.n_configs * self.n_seeds * self.n_fidelities

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ImportReport:
    """Summary of an import: one ``TaskImportReport`` per task, plus the settings used.

    ``str(report)`` is a readable table, e.g.::

        imported 5000 rows from table.csv: 2 tasks, metric valid_error (min)
        task    configs  seeds  fidelities  objectives  missing cells  nan values  repaired cells
        a          50      2       25          3        0 (0.0%)       0           0

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"lr": [0.1, 0.1, 0.01], "epoch": [1, 2, 1], "error": [0.5, 0.4, 0.6]})
        >>> print(import_table(df, config_cols=["lr"], fidelity_col="epoch").report)
        imported 3 rows from DataFrame: 1 task, metric error (min), fidelity epoch, objectives error
        task     rows  configs  seeds  fidelities  missing cells  nan values  repaired cells
        default     3        2      1           2      1 (25.0%)           0               0
        1 missing (config, seed, fidelity) cells are NaN ("evaluation missing").
    """

    tasks: dict[str, TaskImportReport]
    n_rows: int
    config_cols: list[str]
    objectives: list[str]
    metric: str
    mode: str
    fidelity_name: str
    elapsed_time_col: str | None = None
    source: str = "DataFrame"
    repair_elapsed_time: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def missing_cells(self) -> int:
        return sum(t.missing_cells for t in self.tasks.values())

    @property
    def repaired_cells(self) -> int:
        return sum(t.repaired_cells for t in self.tasks.values())

    def to_dict(self) -> dict:
        d = asdict(self)
        d["tasks"] = {k: v.to_dict() for k, v in self.tasks.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ImportReport":
        d = dict(d)
        d["tasks"] = {k: TaskImportReport(**v) for k, v in d["tasks"].items()}
        return cls(**d)

    def __str__(self) -> str:
        n_tasks = len(self.tasks)
        lines = [f"imported {self.n_rows} rows from {self.source}: {n_tasks} task"
                 f"{'s' if n_tasks != 1 else ''}, metric {self.metric} ({self.mode}), "
                 f"fidelity {self.fidelity_name}, objectives {', '.join(self.objectives)}"
                 + (f" (elapsed time: {self.elapsed_time_col})" if self.elapsed_time_col else "")]
        header = ["task", "rows", "configs", "seeds", "fidelities", "missing cells", "nan values",
                  "repaired cells"]
        rows = []
        for t in self.tasks.values():
            share = 100.0 * t.missing_cells / t.n_cells if t.n_cells else 0.0
            rows.append([t.task, str(t.n_rows), str(t.n_configs), str(t.n_seeds),
                         str(t.n_fidelities), f"{t.missing_cells} ({share:.1f}%)",
                         str(t.nan_values), str(t.repaired_cells)])
        lines += format_table(header, rows)
        if self.missing_cells:
            lines.append(f"{self.missing_cells} missing (config, seed, fidelity) cells are NaN "
                         f"(\"evaluation missing\").")
        if self.repaired_cells:
            lines.append(f"{self.repaired_cells} elapsed-time values were raised to the cumulative "
                         f"maximum along {self.fidelity_name} (--repair-elapsed-time).")
        lines += self.notes
        return "\n".join(lines)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned text columns (first column) and right-aligned numbers (others)."""
    widths = [max([len(h)] + [len(r[j]) for r in rows]) for j, h in enumerate(header)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                         for j, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [fmt(header)] + [fmt(r) for r in rows]


@dataclass
class ImportResult:
    """What ``import_table`` returns: ``blackboxes`` (task -> TabularBlackbox) and ``report``.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": [1, 2], "loss": [0.3, 0.1]})
        >>> res = import_table(df, config_cols=["x"])
        >>> list(res.blackboxes), res.report.tasks["default"].n_configs
        (['default'], 2)
    """

    blackboxes: dict[str, TabularBlackbox]
    report: ImportReport


# ---------------------------------------------------------------------------- checks
def _columns_arg(value: str | Sequence[str] | None, what: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        cols = [c.strip() for c in value.split(",") if c.strip()]
    else:
        cols = [str(c) for c in value]
    if not cols:
        raise TableImportError(f"{what} is empty; name at least one column")
    return cols


def _require_column(df: pd.DataFrame, col: str, role: str) -> None:
    if col in df.columns:
        return
    present = [str(c) for c in df.columns]
    close = difflib.get_close_matches(col, present, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise TableImportError(
        f"{role} column {col!r} is not in the table{hint} (columns present: {', '.join(present)})")


def _rows_text(rows: np.ndarray) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:_MAX_SHOWN])
    more = f", ... ({len(rows)} in total)" if len(rows) > _MAX_SHOWN else ""
    return f"{shown}{more}"


def _text_column_names(df: pd.DataFrame) -> pd.DataFrame:
    """Column names as text (a Parquet file or DataFrame may have integer names; columns are
    named by text everywhere else); names that repeat, as given or once made text, are an error."""
    names = [str(c) for c in df.columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise TableImportError(f"the table has several columns named {repeated} (column names compared as "
                               f"text); every column needs its own name")
    if any(not isinstance(c, str) for c in df.columns):
        df = df.set_axis(names, axis=1)
    return df


def _check_no_nan(df: pd.DataFrame, col: str, role: str) -> None:
    bad = np.flatnonzero(df[col].isna().to_numpy())
    if len(bad):
        raise TableImportError(
            f"{role} column {col!r} has {len(bad)} missing (NaN) value{'s' if len(bad) > 1 else ''} "
            f"at rows {_rows_text(bad)}; every row needs a {role} value")


def _numeric(df: pd.DataFrame, col: str, role: str) -> np.ndarray:
    """The column as float64; a non-numeric value is an error naming it and its row."""
    s = df[col]
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    conv = pd.to_numeric(s, errors="coerce")
    bad = np.flatnonzero((conv.isna() & s.notna()).to_numpy())
    if len(bad):
        row = int(bad[0])
        raise TableImportError(
            f"{role} column {col!r} is not numeric: row {row} holds {s.iloc[row]!r} "
            f"({len(bad)} non-numeric value{'s' if len(bad) > 1 else ''}, at rows {_rows_text(bad)})")
    return conv.to_numpy(dtype=np.float64, na_value=np.nan)



def _objective_values(df: pd.DataFrame, col: str, role: str) -> np.ndarray:
    """The objective column as float64, checked to be storable as float32 without turning
    into something else: no infinities, nothing beyond float32's range; for the elapsed
    time also nothing negative. NaN (missing) is allowed."""
    v = _numeric(df, col, role)
    # the checks are objective_values.unstorable's (generate.py asks the same); the messages,
    # naming a table's column and rows, are this module's own
    bad = unstorable(v, elapsed_time=role == "elapsed-time")
    inf, big, neg = bad.infinite, bad.too_large, bad.negative
    if len(inf):
        row = int(inf[0])
        raise TableImportError(
            f"{role} column {col!r} holds {len(inf)} infinite value{'s' if len(inf) > 1 else ''} "
            f"({float(v[row])!r} at row {row}; rows {_rows_text(inf)}); hposim reads a missing or failed "
            f"evaluation as NaN: replace the infinities by NaN (an empty cell) or by finite values")
    if len(big):
        row = int(big[0])
        raise TableImportError(
            f"{role} column {col!r} holds {len(big)} value{'s' if len(big) > 1 else ''} beyond the "
            f"float32 range (±{FLOAT32_MAX:.4g}) in which objectives are stored ({float(v[row])!r} at row "
            f"{row}; rows {_rows_text(big)}); they would become infinite: rescale the column or "
            f"replace those values by NaN")
    if len(neg):
        row = int(neg[0])
        raise TableImportError(
            f"elapsed-time column {col!r} holds {len(neg)} negative value{'s' if len(neg) > 1 else ''} "
            f"({float(v[row])!r} at row {row}; rows {_rows_text(neg)}); elapsed time is the seconds since "
            f"the trial started and must be >= 0 (NaN for a missing value)")
    return v


def _mixed_type_notes(df: pd.DataFrame, config_cols: Sequence[str]) -> list[str]:
    """Notes for config columns that mix numbers and text: all their values are kept as
    text (a CSV reader cannot give them two types), so ``3`` becomes the string ``'3'``."""
    notes = []
    for col in config_cols:
        s = df[col]
        if not pd.api.types.is_object_dtype(s.dtype) and not pd.api.types.is_string_dtype(s.dtype):
            continue
        values = pd.unique(s.dropna())
        texts = [v for v in values if isinstance(v, str)]
        numeric = [v for v in texts if _parses_as_number(v)]
        if numeric and len(numeric) < len(texts):
            other = next(v for v in texts if not _parses_as_number(v))
            notes.append(f"config column {col!r} mixes numbers and text (e.g. {numeric[0]!r} and "
                         f"{other!r}): all its values are imported as text (categorical), so "
                         f"{numeric[0]!r} is the string {numeric[0]!r}, not a number")
    return notes


def _parses_as_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _is_numeric_column(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _check_mode(mode: str) -> None:
    if mode not in ("min", "max"):
        close = difflib.get_close_matches(str(mode), ["min", "max"], n=1, cutoff=0.3)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TableImportError(f"mode {mode!r} is not valid; allowed: 'min' or 'max'{hint}")


# ---------------------------------------------------------------------------- factorizing
def _sort_key(v: Any) -> tuple:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (bool, int, float)):
        return (0, float(v), "")
    return (1, 0.0, str(v))


def _factorize_sorted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` with uniques sorted (mixed types: numbers first, then by text)."""
    try:
        codes, uniques = pd.factorize(values, sort=True)
        return codes.astype(np.int64), np.asarray(uniques)
    except TypeError:
        codes, uniques = pd.factorize(values, sort=False)
        uniques = np.asarray(uniques, dtype=object)
        order = sorted(range(len(uniques)), key=lambda i: _sort_key(uniques[i]))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return rank[codes], uniques[order]


def _combine_codes(codes: list[np.ndarray], cards: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of several code columns -> ``(row_config_id, a_row_of_each_config)``.

    Config ids follow the lexicographic order of the codes (i.e. of the sorted values).
    Hashing (``pandas.factorize``) keeps this linear in the number of rows; only the
    distinct keys are sorted.
    """
    n = len(codes[0])
    if float(np.prod([max(c, 1) for c in cards], dtype=float)) < 2 ** 62:
        key = np.zeros(n, dtype=np.int64)
        for c, card in zip(codes, cards):
            key = key * max(card, 1) + c
        ids, _ = pd.factorize(key, sort=True)
        ids = ids.astype(np.int64)
    else:
        stacked = np.stack(codes, axis=1)
        _, ids = np.unique(stacked, axis=0, return_inverse=True)
        ids = ids.reshape(-1).astype(np.int64)
    rep = np.empty(int(ids.max()) + 1 if n else 0, dtype=np.int64)
    rep[ids] = np.arange(n)
    return ids, rep


# ---------------------------------------------------------------------------- the import
@dataclass
class _Spec:
    config_cols: list[str]
    fidelity_col: str | None
    seed_col: str | None
    task_col: str | None
    elapsed_time_col: str | None
    objectives: list[str]
    metric: str
    mode: str
    fidelity_name: str
    repair: bool
    space: ConfigurationSpace | None
    name: str | None
    source: str


def _resolve(df: pd.DataFrame, *, config_cols, fidelity_col, seed_col, task_col, elapsed_time_col,
             objective_cols, metric, mode, fidelity_name, repair_elapsed_time, configuration_space,
             name, source) -> _Spec:
    """Check the arguments against the table; every error names the column and what is allowed."""
    _check_mode(mode)
    configs = _columns_arg(config_cols, "config_cols")
    if configs is None:
        raise TableImportError("config_cols is required: name the hyperparameter columns")
    if len(df) == 0:
        raise TableImportError(f"the table {source} has no rows")
    for c in configs:
        _require_column(df, c, "config")
    roles = {"fidelity": fidelity_col, "seed": seed_col, "task": task_col,
             "elapsed time": elapsed_time_col}
    for role, col in roles.items():
        if col is not None:
            _require_column(df, col, role)
    keys = configs + [c for c in (fidelity_col, seed_col, task_col) if c is not None]
    dup = sorted({c for c in keys if keys.count(c) > 1})
    if dup:
        raise TableImportError(f"column(s) {dup} are given more than one role "
                               f"(config, fidelity, seed, task); each column has one role")
    objectives = _columns_arg(objective_cols, "objective_cols")
    if objectives is None:
        objectives = [str(c) for c in df.columns
                      if c not in keys and (_is_numeric_column(df[c]) or c in (metric, elapsed_time_col))]
    else:
        for c in objectives:
            _require_column(df, c, "objective")
        clash = [c for c in objectives if c in keys]
        if clash:
            raise TableImportError(f"objective column(s) {clash} are also config, fidelity, seed or "
                                   f"task columns; each column has one role")
        if elapsed_time_col is not None and elapsed_time_col not in objectives:
            objectives.append(elapsed_time_col)
    if elapsed_time_col in keys:
        raise TableImportError(f"elapsed-time column {elapsed_time_col!r} is also a config, fidelity, "
                               f"seed or task column; it must be an objective")
    if not objectives:
        raise TableImportError(
            f"no objective columns: every column other than config/fidelity/seed/task columns "
            f"is non-numeric (columns present: {', '.join(map(str, df.columns))}); a column holding "
            f"numbers as text is used when named in objective_cols")
    if len(set(objectives)) != len(objectives):
        raise TableImportError(f"objective columns are repeated: {objectives}")
    if metric is None:
        others = [o for o in objectives if o != elapsed_time_col]
        metric = others[0] if others else objectives[0]
    elif metric not in objectives:
        if metric not in df.columns:
            _require_column(df, metric, "metric")
        close = difflib.get_close_matches(metric, objectives, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TableImportError(f"metric {metric!r} is not among the objectives {objectives}{hint}")
    if metric in RESULT_COLUMNS:
        raise reserved_metric_error(metric, TableImportError)
    space = configuration_space
    if space is not None and set(space) != set(configs):
        raise TableImportError(
            f"the configuration space has hyperparameters {list(space)} but config_cols are {configs}; "
            f"they must be the same names")
    return _Spec(config_cols=list(space) if space is not None else configs, fidelity_col=fidelity_col,
                 seed_col=seed_col, task_col=task_col, elapsed_time_col=elapsed_time_col,
                 objectives=objectives, metric=metric, mode=mode,
                 fidelity_name=fidelity_name or fidelity_col or "fidelity",
                 repair=bool(repair_elapsed_time), space=space, name=name, source=source)


def _validate_space(space: ConfigurationSpace, hp: pd.DataFrame, rows: np.ndarray) -> None:
    """Every distinct value of every config column must belong to the declared space."""
    for col, dom in space.items():
        vals = hp[col].tolist()
        for i, v in enumerate(vals):
            if not dom.contains(v):
                raise TableImportError(
                    f"config column {col!r}: row {int(rows[i])} holds {v!r}, which the configuration "
                    f"space does not allow (allowed: {dom.describe()})")


def _check_elapsed(t: np.ndarray, spec: _Spec, hp: pd.DataFrame, fid: np.ndarray,
                   seeds: np.ndarray, task: str | None) -> tuple[np.ndarray, int]:
    """``t``: (n_configs, n_seeds, n_fid) elapsed times (NaN = missing). Returns (t, repaired)."""
    running = np.fmax.accumulate(t, axis=2)
    prev = np.concatenate([np.full(t.shape[:2] + (1,), np.nan, dtype=t.dtype), running[:, :, :-1]],
                          axis=2)
    with np.errstate(invalid="ignore"):
        bad = t < prev
    n_bad = int(bad.sum())
    if n_bad == 0:
        return t, 0
    if spec.repair:
        out = np.where(np.isnan(t), t, running)
        return out.astype(t.dtype), n_bad
    c, s, k = (int(x[0]) for x in np.nonzero(bad))
    j = int(np.nanargmax(np.where(np.arange(t.shape[2]) < k, t[c, s], np.nan)))
    config = {col: _py(hp[col].iloc[c]) for col in hp.columns}
    where = f"task {task!r}, " if task is not None else ""
    raise TableImportError(
        f"elapsed time {spec.elapsed_time_col!r} decreases along {spec.fidelity_name} for {where}"
        f"config {config}, seed {_py(seeds[s])}: {float(t[c, s, j]):.6g} at {spec.fidelity_name}="
        f"{_py(fid[j])} but {float(t[c, s, k]):.6g} at {spec.fidelity_name}={_py(fid[k])} "
        f"({n_bad} decreasing value{'s' if n_bad > 1 else ''} in total); elapsed time must be "
        f"cumulative. Pass repair_elapsed_time=True (CLI: --repair-elapsed-time) to replace it "
        f"by its cumulative maximum")


def _py(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer() and abs(v) < 2 ** 53:
        return int(v) if not isinstance(v, bool) else v
    return v


def _build_task(df: pd.DataFrame, rows: np.ndarray, spec: _Spec, objectives: np.ndarray,
                fid_all: np.ndarray | None, task: str | None) -> tuple[TabularBlackbox, TaskImportReport]:
    """One task's rows (positions ``rows`` of ``df``) -> blackbox and report."""
    n = len(rows)
    codes, cards = [], []
    for col in spec.config_cols:
        c, u = _factorize_sorted(df[col].to_numpy()[rows])
        codes.append(c)
        cards.append(len(u))
    cfg, rep_row = _combine_codes(codes, cards)
    n_cfg = len(rep_row)
    hp = df[spec.config_cols].iloc[rows[rep_row]].reset_index(drop=True)
    if spec.space is not None:
        _validate_space(spec.space, hp, rows[rep_row])

    if fid_all is not None:
        fid, fid_values = pd.factorize(fid_all[rows], sort=True)
        fid = fid.astype(np.int64)
    else:
        fid_values, fid = np.array([1]), np.zeros(n, dtype=np.int64)
    if spec.seed_col is not None:
        seed_codes, seed_values = _factorize_sorted(df[spec.seed_col].to_numpy()[rows])
    else:
        seed_codes, seed_values = np.zeros(n, dtype=np.int64), np.array([0])
    n_fid, n_seed, n_obj = len(fid_values), len(seed_values), objectives.shape[1]

    flat = (cfg * n_seed + seed_codes) * n_fid + fid
    if n > n_cfg * n_seed * n_fid or np.bincount(flat, minlength=1).max() > 1:
        order = np.argsort(flat, kind="stable")
        sorted_keys = flat[order]
        same = sorted_keys[1:] == sorted_keys[:-1]
        _raise_duplicates(order, sorted_keys, same, rows, hp, cfg, fid_values, fid, seed_values,
                          seed_codes, spec, task)

    out = np.full((n_cfg * n_seed * n_fid, n_obj), np.nan, dtype=np.float32)
    values = objectives[rows]
    out[flat] = values
    out = out.reshape(n_cfg, n_seed, n_fid, n_obj)
    repaired = 0
    if spec.elapsed_time_col is not None and n_fid > 1:
        j = spec.objectives.index(spec.elapsed_time_col)
        t, repaired = _check_elapsed(out[..., j], spec, hp, fid_values, seed_values, task)
        out[..., j] = t

    report = TaskImportReport(
        task=task if task is not None else DEFAULT_TASK, n_rows=n, n_configs=n_cfg, n_seeds=n_seed,
        n_fidelities=n_fid, n_objectives=n_obj, missing_cells=n_cfg * n_seed * n_fid - n,
        nan_values=int(np.isnan(values).sum()), repaired_cells=repaired)
    metadata = {
        "task": report.task, "source": spec.source,
        "seed_values": [_py(s) for s in seed_values.tolist()],
    }
    if spec.name is not None:
        metadata["name"] = spec.name
    fidelity_values = fid_values
    if fid_all is not None and np.all(np.mod(fid_values, 1) == 0):
        fidelity_values = fid_values.astype(np.int64)
    bb = TabularBlackbox(hp, out, fidelity_values=fidelity_values, objectives_names=spec.objectives,
                         configuration_space=spec.space, fidelity_name=spec.fidelity_name,
                         metric_elapsed_time=spec.elapsed_time_col, metric=spec.metric, mode=spec.mode,
                         metadata=metadata)
    return bb, report


def _raise_duplicates(order, sorted_keys, same, rows, hp, cfg, fid_values, fid, seed_values,
                      seed_codes, spec, task) -> None:
    dup_keys = np.unique(sorted_keys[1:][same])
    in_dup = np.isin(sorted_keys, dup_keys)
    groups = []
    pos = order[in_dup]
    keys = sorted_keys[in_dup]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    for a, b in zip(starts[:3], list(starts[1:4]) + [len(keys)]):
        p = np.sort(pos[a:b])
        i = int(p[0])
        desc = {col: _py(hp[col].iloc[int(cfg[i])]) for col in hp.columns}
        parts = [f"config {desc}"]
        if spec.fidelity_col is not None:
            parts.append(f"{spec.fidelity_col}={_py(fid_values[int(fid[i])])}")
        if spec.seed_col is not None:
            parts.append(f"{spec.seed_col}={_py(seed_values[int(seed_codes[i])])}")
        more = f", ... ({len(p)} rows)" if len(p) > _MAX_SHOWN else ""
        groups.append(f"rows {', '.join(str(int(rows[q])) for q in p[:_MAX_SHOWN])}{more} "
                      f"({', '.join(parts)})")
    where = f" in task {task!r}" if task is not None else ""
    key_names = ["config"] + [c for c in (spec.fidelity_col, spec.seed_col) if c is not None]
    unnamed = [role for role, col in (("fidelity_col", spec.fidelity_col), ("seed_col", spec.seed_col))
               if col is None]
    hint = (f" (if the table has {' or '.join(r.split('_')[0] for r in unnamed)} columns, name them "
            f"with {' / '.join(unnamed)})" if unnamed else "")
    raise TableImportError(
        f"{len(dup_keys)} duplicated key{'s' if len(dup_keys) > 1 else ''} ({', '.join(key_names)})"
        f"{where}, {int(in_dup.sum())} rows involved: " + "; ".join(groups)
        + (f"; and {len(dup_keys) - 3} more keys" if len(dup_keys) > 3 else "")
        + f". Each (config, fidelity, seed) must appear once per task: drop or aggregate the "
          f"duplicates{hint}")


def _import(df: pd.DataFrame, source: str, **kwargs: Any) -> ImportResult:
    if not isinstance(df, pd.DataFrame):
        raise TableImportError(f"expected a pandas DataFrame, got {type(df).__name__}")
    df = _text_column_names(df)
    spec = _resolve(df, source=source, **kwargs)
    for c in spec.config_cols:
        _check_no_nan(df, c, "config")
    for role, col in (("fidelity", spec.fidelity_col), ("seed", spec.seed_col), ("task", spec.task_col)):
        if col is not None:
            _check_no_nan(df, col, role)
    objectives = np.empty((len(df), len(spec.objectives)), dtype=np.float32)
    for j, col in enumerate(spec.objectives):
        role = "elapsed-time" if col == spec.elapsed_time_col else (
            "metric" if col == spec.metric else "objective")
        objectives[:, j] = _objective_values(df, col, role)
    notes = _mixed_type_notes(df, spec.config_cols)
    renamed = [o for o in spec.objectives if o in RESULT_COLUMNS]
    if renamed:
        notes.append(f"objective(s) {renamed} are named like columns the simulator adds to its results; "
                     f"in simulation results they appear as "
                     f"{[f'objective_{o}' for o in renamed]} and cannot be the metric")
    fid_all = _numeric(df, spec.fidelity_col, "fidelity") if spec.fidelity_col is not None else None

    blackboxes: dict[str, TabularBlackbox] = {}
    reports: dict[str, TaskImportReport] = {}
    if spec.task_col is None:
        bb, rep = _build_task(df, np.arange(len(df)), spec, objectives, fid_all, None)
        blackboxes[DEFAULT_TASK], reports[DEFAULT_TASK] = bb, rep
    else:
        codes, uniques = pd.factorize(df[spec.task_col].to_numpy(), sort=False)
        names = [str(_py(u)) for u in uniques]
        if len(set(names)) != len(names):
            raise TableImportError(f"task column {spec.task_col!r} has values that are equal as text: "
                                   f"{names}; task names must be distinct")
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        for t, task in enumerate(names):
            rows = order[bounds[t]:bounds[t + 1]]
            bb, rep = _build_task(df, rows, spec, objectives, fid_all, task)
            blackboxes[task], reports[task] = bb, rep
    settings = dict(config_cols=spec.config_cols, objectives=spec.objectives, metric=spec.metric,
                    mode=spec.mode, fidelity_name=spec.fidelity_name,
                    elapsed_time_col=spec.elapsed_time_col, source=source,
                    repair_elapsed_time=spec.repair)
    task_notes = {task: _all_nan_notes(bb, task if spec.task_col is not None else None)
                  for task, bb in blackboxes.items()}
    report = ImportReport(tasks=reports, n_rows=len(df), **settings,
                          notes=notes + [n for ns in task_notes.values() for n in ns])
    for task, bb in blackboxes.items():
        rep = reports[task]
        bb.metadata["import_report"] = ImportReport(tasks={task: rep}, n_rows=rep.n_rows, **settings,
                                                    notes=notes + task_notes[task]).to_dict()
    return ImportResult(blackboxes=blackboxes, report=report)


def _all_nan_notes(bb: TabularBlackbox, task: str | None) -> list[str]:
    """A warning for every objective that is NaN in every cell of the task."""
    obj = np.asarray(bb.objectives).reshape(-1, bb.shape[3])
    where = f" of task {task!r}" if task is not None else ""
    out = []
    for j, name in enumerate(bb.objectives_names):
        if obj.shape[0] and np.isnan(obj[:, j]).all():
            what = ("the metric: every evaluation will count as failed and no run can find a best "
                    "value" if name == bb.metric else "every value of it is missing")
            out.append(f"WARNING: objective {name!r} is NaN in every cell{where} ({what})")
    return out


# Deliberately repeated: from_dataframe and import_table spell out the same keyword arguments
# (not **kwargs) so that help(), the docs and type checkers show them on both public functions.
def from_dataframe(
    df: pd.DataFrame,
    *,
    config_cols: str | Sequence[str],
    fidelity_col: str | None = None,
    seed_col: str | None = None,
    task_col: str | None = None,
    elapsed_time_col: str | None = None,
    objective_cols: str | Sequence[str] | None = None,
    metric: str | None = None,
    mode: str = "min",
    fidelity_name: str | None = None,
    repair_elapsed_time: bool = False,
    configuration_space: ConfigurationSpace | None = None,
    name: str | None = None,
) -> TabularBlackbox | dict[str, TabularBlackbox]:
    """A long-format DataFrame as a ``TabularBlackbox`` (``dict[task, TabularBlackbox]`` when
    ``task_col`` is given).

    ``config_cols`` names the hyperparameter columns (a list or ``"a,b,c"``).
    ``objective_cols`` defaults to every other numeric column. ``metric`` defaults to the first
    objective that is not the elapsed time. Without ``fidelity_col`` the table has one fidelity
    level (``[1]``); without ``seed_col`` one seed. ``configuration_space`` declares the space
    (every value must belong to it); by default it is inferred from the values. The import
    report is in each blackbox's ``metadata["import_report"]``.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"act": ["relu", "tanh"], "seed": [0, 0], "acc": [0.9, 0.8]})
        >>> bb = from_dataframe(df, config_cols="act", seed_col="seed", mode="max")
        >>> bb.evaluate({"act": "tanh"}, fidelity=1)["acc"]
        0.8...
    """
    result = _import(df, "DataFrame", config_cols=config_cols, fidelity_col=fidelity_col,
                     seed_col=seed_col, task_col=task_col, elapsed_time_col=elapsed_time_col,
                     objective_cols=objective_cols, metric=metric, mode=mode,
                     fidelity_name=fidelity_name, repair_elapsed_time=repair_elapsed_time,
                     configuration_space=configuration_space, name=name)
    if task_col is None:
        return result.blackboxes[DEFAULT_TASK]
    return result.blackboxes


def table_format(path: str | Path) -> str:
    """``"csv"`` or ``"parquet"`` from the file name; an error lists the supported suffixes."""
    lower = str(path).lower()
    for suffix in sorted(TABLE_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return TABLE_SUFFIXES[suffix]
    raise TableImportError(
        f"cannot tell the format of {str(path)!r} from its name; supported suffixes: "
        f"{', '.join(TABLE_SUFFIXES)}")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file chosen by its suffix."""
    fmt = table_format(path)
    if not Path(path).exists():
        raise TableImportError(f"no such file: {str(path)!r}")
    try:
        if fmt == "csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as e:
        raise TableImportError(f"cannot read {str(path)!r} as {fmt}: {e}") from e


def import_table(
    path_or_df: str | Path | pd.DataFrame,
    *,
    config_cols: str | Sequence[str],
    fidelity_col: str | None = None,
    seed_col: str | None = None,
    task_col: str | None = None,
    elapsed_time_col: str | None = None,
    objective_cols: str | Sequence[str] | None = None,
    metric: str | None = None,
    mode: str = "min",
    fidelity_name: str | None = None,
    repair_elapsed_time: bool = False,
    configuration_space: ConfigurationSpace | None = None,
    name: str | None = None,
) -> ImportResult:
    """Import a CSV/Parquet file (by suffix) or a DataFrame; see ``from_dataframe``.

    Returns an ``ImportResult`` whose ``blackboxes`` maps task -> TabularBlackbox (the single
    task is ``"default"`` without ``task_col``) and whose ``report`` summarises the import.
    """
    if isinstance(path_or_df, pd.DataFrame):
        df, source = path_or_df, "DataFrame"
    else:
        df, source = read_table(path_or_df), str(Path(path_or_df).resolve())
    result = _import(df, source, config_cols=config_cols, fidelity_col=fidelity_col,
                     seed_col=seed_col, task_col=task_col, elapsed_time_col=elapsed_time_col,
                     objective_cols=objective_cols, metric=metric, mode=mode,
                     fidelity_name=fidelity_name, repair_elapsed_time=repair_elapsed_time,
                     configuration_space=configuration_space, name=name)
    return result
