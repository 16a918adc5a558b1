"""``hposim blackbox get`` and ``hposim blackbox verify`` through ``studies.cli.main``."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "blackbox_repo"))

from loopback import LoopbackServer  # noqa: E402
from toy_recipe import make_toy_recipe, toy_csv  # noqa: E402

from blackbox_repo.recipes import RECIPES  # noqa: E402
from studies.cli import main  # noqa: E402


@pytest.fixture
def toy(tmp_path, monkeypatch):
    with LoopbackServer() as srv:
        data = toy_csv()
        recipe = make_toy_recipe(srv.add("toy.csv", data), data, counter=tmp_path / "n.txt")
        monkeypatch.setitem(RECIPES, recipe.name, recipe)
        yield recipe


def test_get_list_verify_force(toy, tmp_path, capsys):
    assert main(["blackbox", "list"]) == 0
    assert "toy-recipe" in capsys.readouterr().out
    assert main(["blackbox", "get", "toy-recipe"]) == 0
    out = capsys.readouterr().out
    assert "toy-recipe: 2 task(s) (alpha, beta)" in out and "from recipe" in out
    assert main(["blackbox", "verify"]) == 0
    assert "ok      toy-recipe/alpha" in capsys.readouterr().out
    f = toy.family_folder() / "beta" / "hyperparameters.parquet"
    f.write_bytes(f.read_bytes()[:-3])                       # truncate a cached file
    assert main(["blackbox", "verify", "toy-recipe"]) == 1
    captured = capsys.readouterr()
    assert "CORRUPT toy-recipe/beta" in captured.out and "hposim blackbox get toy-recipe --force" in captured.out
    assert main(["blackbox", "get", "toy-recipe", "--force"]) == 0
    assert main(["blackbox", "verify", "toy-recipe/beta"]) == 0
    assert len((tmp_path / "n.txt").read_text().splitlines()) == 2


def test_get_errors_are_one_clear_line(toy, capsys, monkeypatch):
    assert main(["blackbox", "get", "toy-recipee"]) == 1
    assert "did you mean 'toy-recipe'" in capsys.readouterr().err
    monkeypatch.setenv("HPOSIM_OFFLINE", "1")
    assert main(["blackbox", "get", "toy-recipe"]) == 1
    err = capsys.readouterr().err
    assert "HPOSIM_OFFLINE" in err and "toy.csv" in err
    assert main(["blackbox", "verify", "nothing-cached"]) == 1
    assert "not in the cache" in capsys.readouterr().err


def test_get_with_a_folder_mirror_uploads(toy, tmp_path, capsys):
    mirror = tmp_path / "mirror"
    assert main(["blackbox", "get", "toy-recipe", "--mirror", f"file://{mirror}"]) == 0
    assert (mirror / "toy-recipe" / "recipe.json").is_file()
    assert (mirror / "toy-recipe" / "alpha" / "objectives.parquet").is_file()


def test_verify_covers_embedded_cache_surrogates_and_damaged_folders(capsys, hposim_home):
    # issue 11: verify skipped the embedded blackbox's derived cache, said "ok" for a corrupted
    # cached surrogate, and a folder without metadata.json was invisible
    import numpy as np
    import pandas as pd

    from blackbox_repo.blackbox import TabularBlackbox
    from blackbox_repo.repository import blackbox_folder, load_blackbox, save_blackbox
    from blackbox_repo.surrogate import SURROGATE_MODEL, add_surrogate

    original = np.array(load_blackbox("mlp-sklearn", "digits").objectives)   # builds its cache in the home
    npy = hposim_home / "cache" / "mlp-sklearn" / "digits" / "objectives.npy"
    st = os.stat(npy)
    with open(npy, "r+b") as fh:
        fh.seek(st.st_size - 100)
        fh.write(b"\x7f")
    os.utime(npy, ns=(st.st_atime_ns, st.st_mtime_ns))
    table = TabularBlackbox(pd.DataFrame({"x": np.arange(10.0)}), np.random.default_rng(0).random((10, 1, 2, 1)),
                            fidelity_values=[1, 2], objectives_names=["loss"])
    folder = add_surrogate(table).save("sur", "t")
    with open(folder / SURROGATE_MODEL, "r+b") as fh:
        fh.seek(50)
        fh.write(b"\x00\x01")
    save_blackbox(table, "dmg", "t")
    (blackbox_folder("dmg", "t") / "metadata.json").unlink()

    assert main(["blackbox", "verify"]) != 0
    out = capsys.readouterr().out
    assert "CORRUPT mlp-sklearn/digits: cache: " in out and "invalidated: it will be rebuilt" in out
    assert "ok      mlp-sklearn/wine (embedded)" in out
    assert "CORRUPT sur/t: " in out and "surrogate.joblib: sha256" in out and "fix: refit it" in out
    assert "CORRUPT dmg/t: " in out and "metadata.json is missing" in out and "--name dmg --force" in out
    assert main(["blackbox", "verify", "mlp-sklearn"]) == 0         # the corrupt cache was invalidated
    assert "ok      mlp-sklearn/digits (embedded)" in capsys.readouterr().out
    assert not npy.exists()
    bb = load_blackbox("mlp-sklearn", "digits")                     # ... and the next load rebuilds it
    assert npy.exists() and np.array_equal(np.asarray(bb.objectives), original, equal_nan=True)
