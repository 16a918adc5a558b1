"""``hposim blackbox list|info|import`` through ``studies.cli.main`` and the installed script."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blackbox_repo import from_dataframe, load_blackbox, save_blackbox
from blackbox_repo.repository import blackbox_folder
from studies.cli import main

CONFIG_COLS = "lr,layers,act"
IMPORT_ARGS = ["--config-cols", CONFIG_COLS, "--fidelity-col", "epoch", "--seed-col", "seed",
               "--task-col", "dataset", "--elapsed-time-col", "time", "--metric", "valid_error",
               "--mode", "min"]
COLUMNS = "dataset, lr, layers, act, seed, epoch, valid_error, test_error, time"


def make_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for ds in ("iris", "wine"):
        for lr in (1e-3, 1e-2, 1e-1):
            for layers in (1, 2, 3):
                for act in ("relu", "tanh"):
                    for seed in (0, 1):
                        t = 0.0
                        for epoch in range(1, 6):
                            t += float(rng.random())
                            rows.append(dict(dataset=ds, lr=lr, layers=layers, act=act, seed=seed,
                                             epoch=epoch, valid_error=float(rng.random()),
                                             test_error=float(rng.random()), time=t))
    return pd.DataFrame(rows).drop(index=[3, 100]).reset_index(drop=True)


@pytest.fixture
def table_csv(tmp_path) -> Path:
    path = tmp_path / "table.csv"
    make_table().to_csv(path, index=False)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


# ---------------------------------------------------------------------------- help and usage
def test_help_lists_subcommands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "blackbox" in out and "--debug" in out
    code, out, _ = run(capsys, "blackbox", "--help")
    assert code == 0
    for sub in ("list", "info", "import"):
        assert sub in out


def test_usage_errors_exit_2(capsys):
    code, _, err = run(capsys, "blackbox")
    assert code == 2
    assert last_line(err) == "hposim: error: the following arguments are required: <subcommand>"
    code, _, err = run(capsys, "blackbox", "lst")
    assert code == 2
    assert last_line(err).startswith("hposim: error: argument <subcommand>: invalid choice: 'lst'")
    code, _, err = run(capsys, "blackbox", "import", "x.csv", "--config-cols", "a")
    assert code == 2
    assert last_line(err) == "hposim: error: the following arguments are required: --name"


# ---------------------------------------------------------------------------- import
def test_import_list_info(capsys, table_csv, hposim_home):
    code, out, err = run(capsys, "blackbox", "import", str(table_csv), "--name", "mybench", *IMPORT_ARGS)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (f"imported 358 rows from {table_csv}: 2 tasks, metric valid_error (min), "
                        f"fidelity epoch, objectives valid_error, test_error, time (elapsed time: time)")
    assert lines[1].split() == ["task", "rows", "configs", "seeds", "fidelities", "missing", "cells",
                                "nan", "values", "repaired", "cells"]
    assert lines[2].split() == ["iris", "178", "18", "2", "5", "2", "(1.1%)", "0", "0"]
    assert lines[3].split() == ["wine", "180", "18", "2", "5", "0", "(0.0%)", "0", "0"]
    assert f"saved mybench/iris -> {hposim_home / 'blackboxes' / 'mybench' / 'iris'}" in out
    assert last_line(out) == "Inspect it with: hposim blackbox info mybench"

    code, out, _ = run(capsys, "blackbox", "list")
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.split() == ["name", "kind", "tasks", "cached", "size", "source"]
    row = next(r for r in rows if r.startswith("mybench "))
    assert row.split()[:5] == ["mybench", "cached", "iris,", "wine", "yes"]
    assert row.endswith(str(table_csv))

    code, out, _ = run(capsys, "blackbox", "info", "mybench")
    assert code == 0
    assert out.splitlines()[0] == "mybench (cached): 2 tasks"
    assert "  hyperparameters: lr, layers, act" in out
    assert any(line.split()[:4] == ["iris", "18", "2", "5"] for line in out.splitlines())

    code, out, _ = run(capsys, "blackbox", "info", "mybench/iris")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "mybench/iris (cached)"
    assert "configuration space: 3 hyperparameters, 18 configurations tabulated" in lines
    assert "  lr      ordinal {0.001, 0.01, 0.1}" in lines
    assert "  layers  ordinal {1, 2, 3}" in lines
    assert "  act     choice {'relu', 'tanh'}" in lines
    assert "fidelity: epoch = 1, 2, 3, 4, 5 (5 levels)" in lines
    assert "seeds: 2 (indices 0..1)" in lines
    assert "  valid_error  NaN 1.1%  [default metric, mode min]" in lines
    assert "  time         NaN 1.1%  [elapsed time (cumulative)]" in lines
    assert "shape: 18 configs x 2 seeds x 5 epoch x 3 objectives (540 values)" in lines
    assert f"  source: {table_csv}" in lines
    folder = blackbox_folder("mybench", "iris")
    for fname in ("hyperparameters.parquet", "objectives.parquet"):
        digest = hashlib.sha256((folder / fname).read_bytes()).hexdigest()
        assert any(line.startswith(f"  {fname}") and line.endswith(f"sha256 {digest}") for line in lines)
    assert "import report:" in lines


def test_import_round_trip_is_identical(capsys, table_csv):
    code, _, err = run(capsys, "blackbox", "import", str(table_csv), "--name", "rt", *IMPORT_ARGS)
    assert code == 0, err
    direct = from_dataframe(make_table(), config_cols=CONFIG_COLS.split(","), fidelity_col="epoch",
                            seed_col="seed", task_col="dataset", elapsed_time_col="time",
                            metric="valid_error")
    loaded = load_blackbox("rt")
    assert sorted(loaded) == sorted(direct) == ["iris", "wine"]
    for task, bb in direct.items():
        got = loaded[task]
        np.testing.assert_array_equal(np.asarray(got.objectives), bb.objectives)
        pd.testing.assert_frame_equal(got.hyperparameters, bb.hyperparameters, check_dtype=False)
        assert got.configuration_space == bb.configuration_space
        assert got.fidelity_values.tolist() == bb.fidelity_values.tolist()
        assert (got.metric, got.mode, got.metric_elapsed_time) == ("valid_error", "min", "time")
        assert got.metadata["import_report"] == bb.metadata["import_report"] | {
            "source": str(table_csv)}


def test_python_save_load_round_trip():
    df = make_table()
    bb = from_dataframe(df[df.dataset == "wine"], config_cols=["lr", "layers", "act"],
                        fidelity_col="epoch", seed_col="seed", elapsed_time_col="time")
    save_blackbox(bb, "py", "wine")
    got = load_blackbox("py", task="wine")
    np.testing.assert_array_equal(np.asarray(got.objectives), bb.objectives)
    pd.testing.assert_frame_equal(got.hyperparameters, bb.hyperparameters)
    assert got.configuration_space == bb.configuration_space
    config = {"lr": 0.01, "layers": 2, "act": "tanh"}
    assert got.evaluate(config, fidelity=3, seed=1) == bb.evaluate(config, fidelity=3, seed=1)


def test_import_refuses_to_overwrite_without_force(capsys, table_csv, tmp_path):
    assert run(capsys, "blackbox", "import", str(table_csv), "--name", "mine", *IMPORT_ARGS)[0] == 0
    code, _, err = run(capsys, "blackbox", "import", str(table_csv), "--name", "mine", *IMPORT_ARGS)
    assert code == 1
    assert err.strip() == ("hposim: error: a blackbox named 'mine' already exists in the cache "
                           "(tasks: iris, wine); pass --force to overwrite it or choose another --name")
    # --force replaces it, and tasks that the new table lacks disappear
    df = make_table()
    one = tmp_path / "one.parquet"
    df[df.dataset == "wine"].to_parquet(one)
    code, out, err = run(capsys, "blackbox", "import", str(one), "--name", "mine", *IMPORT_ARGS,
                         "--force")
    assert code == 0, err
    assert sorted(load_blackbox("mine")) == ["wine"]


def test_import_bad_input_errors(capsys, table_csv, tmp_path):
    base = ["blackbox", "import", str(table_csv), "--name", "bad"]
    code, out, err = run(capsys, *base, "--config-cols", "lr,layer,act", "--fidelity-col", "epoch")
    assert code == 1 and out == ""
    assert err == ("hposim: error: config column 'layer' is not in the table; did you mean 'layers'? "
                   f"(columns present: {COLUMNS})\n")

    code, _, err = run(capsys, *base, "--config-cols", CONFIG_COLS, "--mode", "maximize")
    assert code == 2
    assert last_line(err) == ("hposim: error: argument --mode: mode 'maximize' is not valid; "
                              "allowed: 'min' or 'max'; did you mean 'max'?")

    df = make_table()
    df["valid_error"] = df["valid_error"].astype(object)
    df.loc[7, "valid_error"] = "diverged"
    bad_csv = tmp_path / "bad.csv"
    df.to_csv(bad_csv, index=False)
    code, _, err = run(capsys, "blackbox", "import", str(bad_csv), "--name", "bad", *IMPORT_ARGS)
    assert code == 1
    assert err == ("hposim: error: metric column 'valid_error' is not numeric: row 7 holds 'diverged' "
                   "(1 non-numeric value, at rows 7)\n")
    assert "Traceback" not in err

    code, _, err = run(capsys, "blackbox", "import", str(tmp_path / "t.xlsx"), "--name", "bad",
                       "--config-cols", "a")
    assert code == 1
    assert err.startswith(f"hposim: error: cannot tell the format of '{tmp_path / 't.xlsx'}'")

    # nothing was saved by the failed imports
    code, out, _ = run(capsys, "blackbox", "list")
    assert "bad " not in out


def test_decreasing_time_needs_repair_flag(capsys, tmp_path):
    df = make_table()
    df.loc[(df.dataset == "wine") & (df.epoch == 5), "time"] = 0.0
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    code, _, err = run(capsys, "blackbox", "import", str(path), "--name", "tt", *IMPORT_ARGS)
    assert code == 1
    assert err.startswith("hposim: error: elapsed time 'time' decreases along epoch for task 'wine', "
                          "config {'lr': 0.001, 'layers': 1, 'act': 'relu'}, seed 0: ")
    assert "(36 decreasing values in total)" in err
    code, out, _ = run(capsys, "blackbox", "import", str(path), "--name", "tt", *IMPORT_ARGS,
                       "--repair-elapsed-time")
    assert code == 0
    assert "36 elapsed-time values were raised to the cumulative maximum along epoch" in out


def test_import_errors_name_flags_not_python_parameters(capsys, tmp_path):
    # issue 11: CLI messages named Python parameters (repair_elapsed_time=True, seed_col)
    df = make_table()
    df.loc[(df.dataset == "wine") & (df.epoch == 5), "time"] = 0.0
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    code, _, err = run(capsys, "blackbox", "import", str(path), "--name", "tt", *IMPORT_ARGS)
    assert "Pass --repair-elapsed-time to replace it" in err and "repair_elapsed_time" not in err
    code, _, err = run(capsys, "blackbox", "import", str(path), "--name", "tt", "--config-cols", CONFIG_COLS,
                       "--task-col", "dataset", "--fidelity-col", "epoch", "--metric", "valid_error")
    assert code != 0 and "name them with --seed-col)" in err and "seed_col" not in err
    df = pd.DataFrame({"x": [1, 2], "seed_col": [0, 0], "loss": [0.1, float("inf")]})
    df.to_csv(path, index=False)
    code, _, err = run(capsys, "blackbox", "import", str(path), "--name", "tt", "--config-cols", "x",
                       "--seed-col", "seed_col")
    assert "metric column 'loss' holds 1 infinite value" in err


def test_import_over_a_damaged_blackbox_says_so_and_force_repairs_it(capsys, table_csv):
    assert run(capsys, "blackbox", "import", str(table_csv), "--name", "dmg", *IMPORT_ARGS)[0] == 0
    (blackbox_folder("dmg", "wine") / "metadata.json").unlink()
    code, _, err = run(capsys, "blackbox", "import", str(table_csv), "--name", "dmg", *IMPORT_ARGS)
    assert code != 0 and "(tasks: iris, wine (damaged))" in err and "--force" in err
    code, out, _ = run(capsys, "blackbox", "list")
    assert code == 0 and "damaged (metadata.json missing; see `hposim blackbox verify`): dmg/wine" in out
    assert run(capsys, "blackbox", "import", str(table_csv), "--name", "dmg", *IMPORT_ARGS, "--force")[0] == 0
    assert sorted(load_blackbox("dmg")) == ["iris", "wine"]


def test_import_refuses_embedded_and_recipe_names(capsys, table_csv):
    for name, what in (("mlp-sklearn", "an embedded blackbox"), ("lcdb", "a recipe")):
        for extra in ([], ["--force"]):
            code, _, err = run(capsys, "blackbox", "import", str(table_csv), "--name", name, *IMPORT_ARGS, *extra)
            assert code != 0
            assert err.strip() == (f"hposim: error: --name '{name}' is the name of {what} and is reserved; "
                                   f"choose another --name")


def test_debug_shows_traceback(capsys, tmp_path):
    code, _, err = run(capsys, "--debug", "blackbox", "info", "no-such-blackbox")
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert last_line(err).startswith("hposim: error: unknown blackbox 'no-such-blackbox'")
    code, _, err = run(capsys, "blackbox", "info", "no-such-blackbox", "--debug")
    assert code == 1 and "Traceback" in err
    code, _, err = run(capsys, "blackbox", "info", "no-such-blackbox")
    assert code == 1 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_info_shows_extra_quality_sections(capsys):
    df = make_table()
    bb = from_dataframe(df[df.dataset == "iris"], config_cols=["lr", "layers", "act"],
                        fidelity_col="epoch", seed_col="seed", elapsed_time_col="time")
    bb.metadata["description"] = "a toy table"
    bb.metadata["multi_fidelity"] = {"spearman_first_last": 0.42, "best_differs": True}
    save_blackbox(bb, "qual", "iris")
    code, out, _ = run(capsys, "blackbox", "info", "qual")
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["qual/iris (cached)", "  a toy table"]
    i = lines.index("multi fidelity:")
    assert lines[i + 1:i + 3] == ["  spearman_first_last: 0.42", "  best_differs: True"]


def test_installed_console_script(table_csv, hposim_home):
    script = Path(sys.executable).parent / "hposim"
    assert script.exists(), f"console script missing at {script}; run `make install`"
    env = {**os.environ, "HPOSIM_HOME": str(hposim_home)}
    ok = subprocess.run([str(script), "blackbox", "import", str(table_csv), "--name", "sub",
                         *IMPORT_ARGS], capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "saved sub/wine" in ok.stdout
    bad = subprocess.run([str(script), "blackbox", "info", "sub/wne"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert bad.returncode == 1
    assert bad.stderr == ("hposim: error: blackbox 'sub' has no task 'wne' (did you mean 'wine'?); "
                          "its tasks: ['iris', 'wine']\n")


def test_formatting_helpers():
    from blackbox_repo import BlackboxRecord, choice, loguniform, ordinal, randint
    from studies.cli_blackbox import compact_values, describe_domain, format_bytes, list_text
    text = list_text([
        BlackboxRecord("nb201", ["cifar10", "cifar100", "ImageNet16-120", "x"], "recipe", False, 0,
                       "https://example.org/nb201.pth"),
        BlackboxRecord("toy", ["a"], "cached", True, 2500, "t.csv"),
    ])
    header, nb, toy = text.splitlines()
    assert header.split() == ["name", "kind", "tasks", "cached", "size", "source"]
    assert nb.split()[:6] == ["nb201", "recipe", "cifar10,", "cifar100,", "ImageNet16-120,", "..."]
    assert header.index("size") == nb.index(" - ") + 1 == toy.index("2.5 kB")
    assert text.splitlines()[1].split()[-3:] == ["no", "-", "https://example.org/nb201.pth"]
    assert text.splitlines()[2].split() == ["toy", "cached", "a", "yes", "2.5", "kB", "t.csv"]
    assert compact_values(list(range(1, 201))) == "1..200 (200 values)"
    assert compact_values([1, 2, 3]) == "1, 2, 3"
    assert describe_domain(loguniform(1e-4, 0.1)) == "float in [0.0001, 0.1], log scale"
    assert describe_domain(randint(1, 8)) == "int in [1, 8]"
    assert describe_domain(choice(["a", "b"])) == "choice {'a', 'b'}"
    assert describe_domain(ordinal(list(range(20)))) == "ordinal of 20 values {0, 1, 2, ..., 19}"
    assert format_bytes(999) == "999 B" and format_bytes(1_500_000) == "1.5 MB"
    assert format_bytes(None) == "-"
