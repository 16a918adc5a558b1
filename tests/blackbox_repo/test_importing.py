"""Import of long-format tables: property test against the source rows, and every error."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from blackbox_repo import ConfigurationSpace, TabularBlackbox, choice, loguniform
from blackbox_repo.importing import (ImportReport, ImportResult, TableImportError, from_dataframe,
                                     import_table)

# ---------------------------------------------------------------------------- property test
COLUMN_VALUES = {
    "int": st.integers(-5, 1000),
    "float": st.floats(1e-6, 1e3, allow_nan=False, allow_subnormal=False),
    "str": st.text(alphabet="abcxyz_-", min_size=1, max_size=4),
    "bool": st.booleans(),
}


@st.composite
def long_tables(draw):
    """A random long table and the settings that describe it."""
    kinds = draw(st.lists(st.sampled_from(sorted(COLUMN_VALUES)), min_size=1, max_size=4))
    config_cols = [f"{k}_{i}" for i, k in enumerate(kinds)]
    configs = draw(st.lists(st.tuples(*(COLUMN_VALUES[k] for k in kinds)), min_size=1, max_size=6,
                            unique=True))
    seeds = draw(st.lists(st.integers(0, 99), min_size=1, max_size=3, unique=True))
    fidelities = draw(st.lists(st.integers(1, 500), min_size=1, max_size=5, unique=True))
    tasks = draw(st.lists(st.sampled_from(["iris", "wine", "digits"]), min_size=1, max_size=3,
                          unique=True))
    rows = []
    for task in tasks:
        for cfg in configs:
            for seed in seeds:
                for fid in sorted(fidelities):
                    rows.append((task, *cfg, seed, fid))
    keep = draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    if not any(keep):
        keep[0] = True
    rows = [r for r, k in zip(rows, keep) if k]
    df = pd.DataFrame(rows, columns=["task", *config_cols, "seed", "epoch"])
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    df["loss"] = rng.random(len(df))
    df["acc"] = rng.integers(0, 100, len(df)).astype(float)
    nan_rows = rng.random(len(df)) < 0.1
    df.loc[nan_rows, "acc"] = np.nan
    df = df.sample(frac=1.0, random_state=int(rng.integers(1000))).reset_index(drop=True)
    return df, config_cols


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(long_tables())
def test_random_long_tables_import_exactly(table):
    df, config_cols = table
    result = import_table(df, config_cols=config_cols, fidelity_col="epoch", seed_col="seed",
                          task_col="task")
    assert set(result.blackboxes) == set(df["task"].unique())
    for task, sub in df.groupby("task"):
        bb = result.blackboxes[task]
        rep = result.report.tasks[task]
        assert bb.objectives_names == ["loss", "acc"]
        seed_values = sorted(sub["seed"].unique())
        assert bb.metadata["seed_values"] == seed_values
        assert bb.fidelity_values.tolist() == sorted(sub["epoch"].unique())
        n_cfg = len(sub[config_cols].drop_duplicates())
        assert bb.shape == (n_cfg, len(seed_values), len(bb.fidelity_values), 2)
        seen = np.zeros(bb.shape[:3], dtype=bool)
        for row in sub.itertuples(index=False):
            values = row._asdict()
            config = {c: values[c] for c in config_cols}
            i = bb.config_id(config)
            s = seed_values.index(values["seed"])
            k = bb.fidelity_index(values["epoch"])
            got = bb.objectives[i, s, k]
            np.testing.assert_array_equal(
                got, np.array([values["loss"], values["acc"]], dtype=np.float32))
            seen[i, s, k] = True
        assert np.isnan(bb.objectives[~seen]).all()
        assert rep.missing_cells == int((~seen).sum()) == seen.size - len(sub)
        assert rep.nan_values == int(sub["acc"].isna().sum())
        assert rep.n_rows == len(sub)


@settings(max_examples=25, deadline=None)
@given(long_tables())
def test_row_order_does_not_matter(table):
    df, config_cols = table
    kwargs = dict(config_cols=config_cols, fidelity_col="epoch", seed_col="seed", task_col="task")
    a = from_dataframe(df, **kwargs)
    b = from_dataframe(df.iloc[::-1].reset_index(drop=True), **kwargs)
    for task in a:
        np.testing.assert_array_equal(a[task].objectives, b[task].objectives)
        pd.testing.assert_frame_equal(a[task].hyperparameters, b[task].hyperparameters)


# ---------------------------------------------------------------------------- basics
def small_table() -> pd.DataFrame:
    rows = []
    for lr in (0.1, 0.01):
        for act in ("relu", "tanh"):
            for seed in (0, 1):
                t = 0.0
                for epoch in (1, 2, 3):
                    t += 1.5 if act == "relu" else 2.0
                    rows.append(dict(lr=lr, act=act, seed=seed, epoch=epoch,
                                     valid_error=1.0 / (epoch + lr + seed), time=t,
                                     note="ok"))
    return pd.DataFrame(rows)


def test_shape_metric_and_defaults():
    bb = from_dataframe(small_table(), config_cols=["lr", "act"], fidelity_col="epoch",
                        seed_col="seed", elapsed_time_col="time", name="toy")
    assert isinstance(bb, TabularBlackbox)
    assert bb.shape == (4, 2, 3, 2)
    assert bb.objectives_names == ["valid_error", "time"]     # "note" is not numeric: skipped
    assert bb.metric == "valid_error" and bb.mode == "min"
    assert bb.metric_elapsed_time == "time"
    assert bb.fidelity_name == "epoch" and bb.fidelity_values.tolist() == [1, 2, 3]
    assert bb.metadata["name"] == "toy" and bb.metadata["task"] == "default"
    assert bb.hyperparameters.to_dict("list") == {"lr": [0.01, 0.01, 0.1, 0.1],
                                                  "act": ["relu", "tanh", "relu", "tanh"]}
    out = bb.evaluate({"lr": 0.1, "act": "tanh"}, fidelity=2, seed=1)
    assert out["valid_error"] == pytest.approx(1.0 / 3.1)
    assert out["time"] == pytest.approx(4.0)
    report = ImportReport.from_dict(bb.metadata["import_report"])
    assert report.tasks["default"].missing_cells == 0
    assert report.metric == "valid_error"


def test_single_fidelity_single_seed():
    df = pd.DataFrame({"x": [1, 2, 3], "loss": [0.3, 0.1, 0.2]})
    bb = from_dataframe(df, config_cols="x")
    assert bb.shape == (3, 1, 1, 1)
    assert bb.fidelity_values.tolist() == [1]
    assert bb.evaluate({"x": 2}, fidelity=1)["loss"] == pytest.approx(0.1)


def test_task_col_returns_dict_and_report():
    df = small_table()
    df2 = df.assign(dataset="b")
    df2 = df2[df2["epoch"] < 3]
    both = pd.concat([df.assign(dataset="a"), df2], ignore_index=True)
    out = from_dataframe(both, config_cols="lr,act", fidelity_col="epoch", seed_col="seed",
                         task_col="dataset", elapsed_time_col="time", metric="valid_error")
    assert list(out) == ["a", "b"]
    assert out["a"].shape == (4, 2, 3, 2) and out["b"].shape == (4, 2, 2, 2)
    res = import_table(both, config_cols="lr,act", fidelity_col="epoch", seed_col="seed",
                       task_col="dataset")
    assert isinstance(res, ImportResult)
    text = str(res.report)
    assert "imported 40 rows from DataFrame: 2 tasks" in text
    assert res.report.tasks["b"].n_fidelities == 2


def test_missing_rows_become_nan_and_are_counted():
    df = small_table().drop(index=[0, 5, 7]).reset_index(drop=True)
    res = import_table(df, config_cols=["lr", "act"], fidelity_col="epoch", seed_col="seed")
    bb = res.blackboxes["default"]
    assert res.report.tasks["default"].missing_cells == 3
    assert int(np.isnan(bb.objectives[..., 0]).sum()) == 3
    assert "3 missing (config, seed, fidelity) cells are NaN" in str(res.report)


def test_declared_configuration_space():
    space = ConfigurationSpace({"act": choice(["relu", "tanh", "gelu"]), "lr": loguniform(1e-3, 1.0)})
    bb = from_dataframe(small_table(), config_cols=["lr", "act"], fidelity_col="epoch",
                        seed_col="seed", configuration_space=space)
    assert bb.configuration_space == space
    assert list(bb.hyperparameters.columns) == ["act", "lr"]
    small = ConfigurationSpace({"act": choice(["relu"]), "lr": loguniform(1e-3, 1.0)})
    with pytest.raises(TableImportError, match=r"config column 'act': row \d+ holds 'tanh'"):
        from_dataframe(small_table(), config_cols=["lr", "act"], fidelity_col="epoch",
                       seed_col="seed", configuration_space=small)


def test_csv_and_parquet_files(tmp_path):
    df = small_table()
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_parquet(tmp_path / "t.parquet")
    kwargs = dict(config_cols=["lr", "act"], fidelity_col="epoch", seed_col="seed",
                  elapsed_time_col="time")
    a = import_table(tmp_path / "t.csv", **kwargs)
    b = import_table(str(tmp_path / "t.parquet"), **kwargs)
    np.testing.assert_array_equal(a.blackboxes["default"].objectives,
                                  b.blackboxes["default"].objectives)
    assert a.report.source.endswith("t.csv")
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(TableImportError, match=r"cannot tell the format of .*t\.xlsx.*"
                                                r"supported suffixes: \.csv, .*\.parquet"):
        import_table(tmp_path / "t.xlsx", **kwargs)
    with pytest.raises(TableImportError, match="no such file"):
        import_table(tmp_path / "absent.csv", **kwargs)


# ---------------------------------------------------------------------------- errors
def test_missing_column_names_it_and_lists_columns():
    with pytest.raises(TableImportError) as e:
        from_dataframe(small_table(), config_cols=["lr", "actv"])
    assert str(e.value) == ("config column 'actv' is not in the table; did you mean 'act'? "
                            "(columns present: lr, act, seed, epoch, valid_error, time, note)")
    with pytest.raises(TableImportError, match="fidelity column 'epochs' is not in the table; "
                                               "did you mean 'epoch'"):
        from_dataframe(small_table(), config_cols=["lr"], fidelity_col="epochs")


def test_bad_mode():
    with pytest.raises(TableImportError) as e:
        from_dataframe(small_table(), config_cols="lr,act", mode="maximize")
    assert str(e.value) == "mode 'maximize' is not valid; allowed: 'min' or 'max'; did you mean 'max'?"


def test_non_numeric_metric_names_value_and_row():
    df = small_table()
    df["valid_error"] = df["valid_error"].astype(object)
    df.loc[5, "valid_error"] = "n/a"
    with pytest.raises(TableImportError) as e:
        from_dataframe(df, config_cols="lr,act", fidelity_col="epoch", seed_col="seed",
                       metric="valid_error")
    assert str(e.value) == ("metric column 'valid_error' is not numeric: row 5 holds 'n/a' "
                            "(1 non-numeric value, at rows 5)")
    with pytest.raises(TableImportError, match="objective column 'note' is not numeric: row 0 "
                                               "holds 'ok'"):
        from_dataframe(small_table(), config_cols="lr,act", fidelity_col="epoch", seed_col="seed",
                       objective_cols=["valid_error", "note"])


def test_metric_not_among_objectives():
    with pytest.raises(TableImportError) as e:
        from_dataframe(small_table(), config_cols="lr,act", fidelity_col="epoch", seed_col="seed",
                       objective_cols=["time"], metric="valid_error")
    assert str(e.value) == "metric 'valid_error' is not among the objectives ['time']"


def test_nan_in_config_column():
    df = small_table()
    df.loc[[3, 8], "lr"] = np.nan
    with pytest.raises(TableImportError) as e:
        from_dataframe(df, config_cols="lr,act", fidelity_col="epoch", seed_col="seed")
    assert str(e.value) == ("config column 'lr' has 2 missing (NaN) values at rows 3, 8; "
                            "every row needs a config value")


def test_duplicates_report_rows_and_count():
    df = small_table()
    dup = pd.concat([df, df.iloc[[2, 2, 10]]], ignore_index=True)
    with pytest.raises(TableImportError) as e:
        from_dataframe(dup, config_cols="lr,act", fidelity_col="epoch", seed_col="seed")
    msg = str(e.value)
    assert msg.startswith("2 duplicated keys (config, epoch, seed), 5 rows involved: ")
    assert "rows 2, 24, 25 (config {'lr': 0.1, 'act': 'relu'}, epoch=3, seed=0)" in msg
    assert "rows 10, 26 (config {'lr': 0.1, 'act': 'tanh'}, epoch=2, seed=1)" in msg


def test_many_duplicates_are_truncated():
    df = pd.DataFrame({"x": np.repeat(np.arange(10), 8), "loss": np.arange(80.0)})
    with pytest.raises(TableImportError) as e:
        from_dataframe(df, config_cols="x")
    msg = str(e.value)
    assert msg.startswith("10 duplicated keys (config), 80 rows involved: rows 0, 1, 2, 3, 4, ... "
                          "(8 rows) (config {'x': 0}); rows 8, 9, 10, 11, 12, ... (8 rows) "
                          "(config {'x': 1}); ")
    assert "; and 7 more keys. Each (config, fidelity, seed) must appear once" in msg
    assert msg.endswith("(if the table has fidelity or seed columns, name them with "
                        "fidelity_col / seed_col)")


def test_decreasing_elapsed_time_is_an_error_or_repaired():
    df = small_table()
    sel = (df.lr == 0.01) & (df.act == "tanh") & (df.seed == 1) & (df.epoch == 3)
    df.loc[sel, "time"] = 1.0
    kwargs = dict(config_cols="lr,act", fidelity_col="epoch", seed_col="seed",
                  elapsed_time_col="time")
    with pytest.raises(TableImportError) as e:
        from_dataframe(df, **kwargs)
    assert str(e.value).startswith(
        "elapsed time 'time' decreases along epoch for config {'lr': 0.01, 'act': 'tanh'}, seed 1: "
        "4 at epoch=2 but 1 at epoch=3 (1 decreasing value in total)")
    res = import_table(df, repair_elapsed_time=True, **kwargs)
    bb = res.blackboxes["default"]
    assert res.report.tasks["default"].repaired_cells == 1
    assert bb.evaluate({"lr": 0.01, "act": "tanh"}, seed=1)["time"].tolist() == [2.0, 4.0, 4.0]
    assert "1 elapsed-time values were raised to the cumulative maximum" in str(res.report)


def test_elapsed_time_check_skips_missing_cells():
    df = small_table()
    # drop epoch 2 of one curve: times 1.5, (missing), 4.5 are still non-decreasing
    df = df[~((df.lr == 0.1) & (df.act == "relu") & (df.seed == 0) & (df.epoch == 2))]
    bb = from_dataframe(df, config_cols="lr,act", fidelity_col="epoch", seed_col="seed",
                        elapsed_time_col="time")
    t = bb.evaluate({"lr": 0.1, "act": "relu"}, seed=0)["time"]
    assert t[0] == 1.5 and np.isnan(t[1]) and t[2] == 4.5


def test_column_with_two_roles():
    with pytest.raises(TableImportError, match=r"column\(s\) \['epoch'\] are given more than one role"):
        from_dataframe(small_table(), config_cols="lr,epoch", fidelity_col="epoch")


@pytest.mark.timing
def test_large_table_is_fast():
    import time
    n_cfg, n_seed, n_fid = 2000, 3, 50
    idx = np.indices((n_cfg, n_seed, n_fid)).reshape(3, -1)
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": idx[0] % 50, "b": np.array(["x", "y", "z", "w"])[idx[0] // 50 % 4],
                       "c": idx[0] // 200 * 0.5, "seed": idx[1], "epoch": idx[2] + 1,
                       "loss": rng.random(idx.shape[1]), "time": idx[2] + 1.0})
    df = df.sample(frac=1.0, random_state=0)
    t0 = time.perf_counter()
    bb = from_dataframe(df, config_cols="a,b,c", fidelity_col="epoch", seed_col="seed",
                        elapsed_time_col="time")
    elapsed = time.perf_counter() - t0
    assert bb.shape == (n_cfg, n_seed, n_fid, 2)
    assert elapsed < 5.0, f"importing {len(df)} rows took {elapsed:.2f}s"


def test_column_mixing_numbers_and_text():
    df = pd.DataFrame({"x": pd.Series([1, "a", 2.5, "b"], dtype=object), "loss": [1.0, 2.0, 3.0, 4.0]})
    bb = from_dataframe(df, config_cols="x")
    assert bb.hyperparameters["x"].tolist() == [1, 2.5, "a", "b"]      # numbers first, then text
    assert [bb.evaluate({"x": v}, fidelity=1)["loss"] for v in (1, "a", 2.5, "b")] == [1, 2, 3, 4]


# ---------------------------------------------------------------------------- hostile tables (issue 11)
from pathlib import Path  # noqa: E402

from blackbox_repo.errors import InputError  # noqa: E402
from blackbox_repo.repository import load_blackbox, save_blackboxes  # noqa: E402
from blackbox_repo.reserved_columns import RESULT_COLUMNS  # noqa: E402

ODD_NAMES = ["loss", "time", "fidelity", "trial_id", "config_id", "_config_id", "seed", "λ", "a b", "a,b",
             "1", "objective_time", " lead", "épsilon", "x" * 40]
HOSTILE_VALUES = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False),
    st.just(float("nan")), st.just(float("inf")), st.just(float("-inf")), st.just(1e300), st.just(-1e300),
    st.just(0.0), st.just(-0.0), st.just(3.4e38))
CLEAN_VALUES = st.one_of(st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False),
                         st.just(float("nan")), st.just(-0.0), st.just(3.4e38), st.just(1e-50))
FLOAT32_MAX = float(np.finfo(np.float32).max)


@st.composite
def hostile_tables(draw):
    """A long table with holes, NaN, infinities, overflowing values, duplicate rows and odd
    column names; returns (df, settings, planted duplicates)."""
    names = draw(st.lists(st.sampled_from(ODD_NAMES), min_size=2, max_size=4, unique=True))
    config_col, objectives = names[0], names[1:]
    n_cfg = draw(st.integers(1, 4))
    fids = draw(st.lists(st.integers(1, 9), min_size=1, max_size=3, unique=True))
    seeds = draw(st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True))
    rows = [(c, f, s) for c in range(n_cfg) for f in fids for s in seeds]
    keep = draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    rows = [r for r, k in zip(rows, keep) if k] or rows[:1]
    df = pd.DataFrame(rows, columns=[config_col, "epoch_col", "seed_col"])
    values = draw(st.sampled_from([HOSTILE_VALUES, CLEAN_VALUES, CLEAN_VALUES]))
    for o in objectives:
        df[o] = draw(st.lists(values, min_size=len(df), max_size=len(df)))
    n_dup = draw(st.sampled_from([0, 0, 0, 1]))
    if n_dup:
        df = pd.concat([df, df.iloc[[draw(st.integers(0, len(df) - 1))]]], ignore_index=True)
    df = df.sample(frac=1.0, random_state=draw(st.integers(0, 1000))).reset_index(drop=True)
    metric = draw(st.sampled_from(objectives))
    via = draw(st.sampled_from(["frame", "csv", "parquet"]))
    return df, dict(config_cols=[config_col], fidelity_col="epoch_col", seed_col="seed_col",
                    objective_cols=objectives, metric=metric), n_dup, via


def _expected_failures(df: pd.DataFrame, kw: dict, n_dup: int) -> list[str]:
    """What the import must refuse, computed independently of the importer (empty: it must
    succeed); the error names one of these problems."""
    values = df[kw["objective_cols"]].to_numpy(float)
    out = []
    if kw["metric"] in RESULT_COLUMNS:
        out.append("is the name of a column the simulator adds")
    if n_dup:
        out.append("duplicated key")
    if np.isinf(values).any():
        out.append("infinite value")
    if (np.abs(values[np.isfinite(values)]) > FLOAT32_MAX).any():
        out.append("beyond the float32 range")
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_tables())
def test_hostile_tables_import_exactly_or_fail_with_a_clear_input_error(table):
    """Requirement 4 of issue 11: either a clear InputError, or a blackbox (saved and loaded
    back) whose every cell equals the input rounded to float32, NaN where the input has no row."""
    df, kw, n_dup, via = table
    expected_failures = _expected_failures(df, kw, n_dup)
    source = df
    if via != "frame":                      # through a file, as `hposim blackbox import` reads it
        import tempfile
        source = Path(tempfile.mkdtemp()) / f"table.{via}"
        df.to_csv(source, index=False) if via == "csv" else df.to_parquet(source)
    try:
        result = import_table(source, **kw)
    except InputError as e:
        assert expected_failures, f"unexpected refusal: {e}"
        assert any(f in str(e) for f in expected_failures), (expected_failures, str(e))
        event("refused")
        return
    assert not expected_failures, f"imported although it should fail: {expected_failures}"
    event("imported")
    save_blackboxes(result.blackboxes, "hostile", force=True)
    bb = load_blackbox("hostile", "default")
    objectives = kw["objective_cols"]
    assert bb.objectives_names == objectives
    fids, seeds = sorted(df["epoch_col"].unique()), sorted(df["seed_col"].unique())
    seen = np.zeros(bb.shape[:3], dtype=bool)
    for _, row in df.iterrows():
        i = bb.config_id({kw["config_cols"][0]: row[kw["config_cols"][0]]})
        k, s = fids.index(row["epoch_col"]), seeds.index(row["seed_col"])
        got = np.asarray(bb.objectives[i, s, k])
        want = row[objectives].to_numpy(float).astype(np.float32)
        np.testing.assert_array_equal(got, want)
        assert (np.signbit(got) == np.signbit(want)).all()          # -0.0 stays -0.0
        seen[i, s, k] = True
    assert np.isnan(np.asarray(bb.objectives)[~seen]).all()
    assert result.report.tasks["default"].nan_values == int(df[objectives].isna().to_numpy().sum())


def test_metric_named_like_a_result_column_is_refused_at_import():
    # issue 11: a metric column named `time` made `best` read the simulator's time column
    for name in ("time", "fidelity", "worker", "trial_id"):
        df = pd.DataFrame({"x": [1, 2], name: [0.5, 0.1]})
        with pytest.raises(TableImportError, match=rf"metric '{name}' is the name of a column the simulator "
                                                   rf"adds to its results.*Rename the objective"):
            import_table(df, config_cols="x")
    # as the elapsed time (not the metric), "time" is fine and the report says how it is renamed
    df = pd.DataFrame({"x": [1, 1], "epoch": [1, 2], "loss": [0.5, 0.4], "time": [1.0, 2.0]})
    res = import_table(df, config_cols="x", fidelity_col="epoch", elapsed_time_col="time")
    assert res.blackboxes["default"].metric == "loss"
    assert "appear as ['objective_time']" in str(res.report)


@pytest.mark.parametrize("values, col, match", [
    ([0.5, float("-inf")], "loss", r"metric column 'loss' holds 1 infinite value \(-inf at row 1"),
    ([0.5, float("inf")], "loss", r"infinite value \(inf at row 1"),
    ([1e300, 0.1], "loss", r"beyond the float32 range .*1e\+300 at row 0"),
    ([1.0, -1e39], "loss", r"beyond the float32 range"),
])
def test_infinite_and_float32_overflowing_objectives_are_refused(values, col, match):
    # issue 11: `best = -inf`, and 1e300 silently became inf on import
    df = pd.DataFrame({"x": [1, 2], col: values})
    with pytest.raises(TableImportError, match=match):
        import_table(df, config_cols="x")


@pytest.mark.parametrize("times, match", [
    ([-1.0, 2.0], r"elapsed-time column 'time' holds 1 negative value \(-1.0 at row 0"),
    ([1.0, float("inf")], r"elapsed-time column 'time' holds 1 infinite value"),
])
def test_negative_or_infinite_elapsed_time_is_refused(times, match):
    df = pd.DataFrame({"x": [1, 1], "epoch": [1, 2], "loss": [0.5, 0.4], "time": times})
    for repair in (False, True):
        with pytest.raises(TableImportError, match=match):
            import_table(df, config_cols="x", fidelity_col="epoch", elapsed_time_col="time",
                         repair_elapsed_time=repair)


def test_mixed_type_config_column_from_csv_is_made_explicit(tmp_path):
    # issue 11: a CSV column holding 3, 5 and "auto" silently became strings
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"depth": ["3", "5", "auto"], "loss": [0.3, 0.2, 0.4]}).to_csv(path, index=False)
    res = import_table(path, config_cols="depth")
    assert res.blackboxes["default"].hyperparameters["depth"].tolist() == ["3", "5", "auto"]
    text = str(res.report)
    assert "config column 'depth' mixes numbers and text (e.g. '3' and 'auto')" in text
    assert "imported as text" in text
    assert res.blackboxes["default"].metadata["import_report"]["notes"] == res.report.notes
    clean = tmp_path / "clean.csv"
    pd.DataFrame({"depth": [3, 5], "loss": [0.3, 0.2]}).to_csv(clean, index=False)
    assert import_table(clean, config_cols="depth").report.notes == []


def test_all_nan_metric_is_warned_in_the_report():
    # issue 11: an all-NaN metric imported without a warning
    df = pd.DataFrame({"x": [1, 2, 1, 2], "task": ["a", "a", "b", "b"], "loss": [np.nan, np.nan, 0.1, np.nan],
                       "acc": [0.5, 0.6, np.nan, np.nan]})
    res = import_table(df, config_cols="x", task_col="task", metric="loss")
    notes = res.report.notes
    assert notes == ["WARNING: objective 'loss' is NaN in every cell of task 'a' (the metric: every "
                     "evaluation will count as failed and no run can find a best value)",
                     "WARNING: objective 'acc' is NaN in every cell of task 'b' (every value of it is missing)"]
    assert res.blackboxes["a"].metadata["import_report"]["notes"] == notes[:1]
    assert notes[0] in str(res.report)


def test_odd_column_names_are_refused_or_used_as_text():
    with pytest.raises(TableImportError, match=r"several columns named \['loss'\]"):
        import_table(pd.DataFrame([[1, 0.1, 0.2], [2, 0.3, 0.4]], columns=["x", "loss", "loss"]), config_cols="x")
    with pytest.raises(TableImportError, match=r"several columns named \['1'\]"):
        import_table(pd.DataFrame([[1, 0.1, 0.2]], columns=["x", 1, "1"]), config_cols="x")
    bb = import_table(pd.DataFrame({0: [1, 2], 1: [0.1, 0.2]}), config_cols="0").blackboxes["default"]
    assert bb.objectives_names == ["1"] and bb.hyperparameters.columns.tolist() == ["0"]
    df = pd.DataFrame({"x": [1, 2], "loss": pd.Series([0.1, "0.2"], dtype=object)})
    with pytest.raises(TableImportError, match="numbers as text is used when named in objective_cols"):
        import_table(df, config_cols="x")
    assert import_table(df, config_cols="x", objective_cols="loss").blackboxes["default"].objectives.ravel().tolist() \
        == [np.float32(0.1), np.float32(0.2)]
