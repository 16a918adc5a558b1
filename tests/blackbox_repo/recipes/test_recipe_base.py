"""The recipe framework: cache -> download -> convert -> atomic save, locks, force, offline."""
from __future__ import annotations

import multiprocessing as mp
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toy_recipe import make_toy_recipe, toy_csv  # noqa: E402

from blackbox_repo import list_blackboxes, load_blackbox  # noqa: E402
from blackbox_repo.download import OfflineError  # noqa: E402
from blackbox_repo.recipes import RECIPES, get_recipe  # noqa: E402
from blackbox_repo.recipes.base import RecipeError  # noqa: E402
from blackbox_repo.repository import blackboxes_root  # noqa: E402
from blackbox_repo.storage import verify_folder  # noqa: E402


@pytest.fixture
def toy(server, tmp_path, register_temporarily):
    data = toy_csv()
    url = server.add("toy/toy.csv", data)
    return register_temporarily(make_toy_recipe(url, data, counter=tmp_path / "conversions.txt"))


def conversions(tmp_path) -> int:
    p = tmp_path / "conversions.txt"
    return len(p.read_text().splitlines()) if p.exists() else 0


def test_get_downloads_converts_caches_and_loads(toy, server, tmp_path):
    d = toy.get(progress=False)
    assert sorted(d) == ["alpha", "beta"]
    assert d["beta"].evaluate({"x": 3}, fidelity=2)["loss"] == pytest.approx(0.5)
    assert d["alpha"].metadata["recipe"] == "toy-recipe" and d["alpha"].metadata["license"] == "CC0"
    assert toy.is_cached() and conversions(tmp_path) == 1
    n = len(server.requests)
    again = toy.get()
    assert conversions(tmp_path) == 1 and len(server.requests) == n
    assert again["alpha"].shape == (5, 1, 3, 2)
    assert not [p for p in blackboxes_root().iterdir() if "recipe-tmp" in p.name]


def test_load_blackbox_falls_back_to_the_recipe_and_list_shows_it(toy, server):
    rec = {r.name: r for r in list_blackboxes()}["toy-recipe"]
    assert rec.kind == "recipe" and not rec.cached and rec.tasks == ["alpha", "beta"]
    bb = load_blackbox("toy-recipe/beta")
    assert bb.shape == (5, 1, 3, 2)
    rec = {r.name: r for r in list_blackboxes()}["toy-recipe"]
    assert rec.cached and rec.size_bytes > 0 and rec.kind == "recipe"
    assert len(server.requests_for("toy/toy.csv")) == 1
    assert sorted(load_blackbox("toy-recipe")) == ["alpha", "beta"]


def test_offline_with_cache_works_and_without_says_what_is_missing(toy, server, monkeypatch):
    monkeypatch.setenv("HPOSIM_OFFLINE", "1")
    with pytest.raises(OfflineError) as e:
        toy.get()
    msg = str(e.value)
    assert "toy.csv" in msg and toy.files[0].url in msg and str(toy.raw_dir() / "toy.csv") in msg
    assert server.requests == []
    monkeypatch.delenv("HPOSIM_OFFLINE")
    toy.get(progress=False)
    monkeypatch.setenv("HPOSIM_OFFLINE", "1")
    assert sorted(toy.get()) == ["alpha", "beta"]
    # raw files kept locally: a forced rebuild works offline too
    assert sorted(toy.get(force=True)) == ["alpha", "beta"]


def test_verify_detects_tampering_and_force_rebuilds(toy, tmp_path):
    toy.get(progress=False)
    folder = toy.family_folder() / "alpha"
    assert verify_folder(folder) == []
    target = folder / "objectives.parquet"
    target.write_bytes(target.read_bytes()[:-10])
    problems = verify_folder(folder)
    assert problems and "objectives.parquet" in " ".join(problems)
    toy.get(force=True, progress=False)
    assert verify_folder(folder) == [] and conversions(tmp_path) == 2


def test_declared_tasks_must_match(server, tmp_path):
    data = toy_csv()
    url = server.add("toy/toy.csv", data)
    bad = make_toy_recipe(url, data, name="toy-bad", tasks=("alpha", "gamma"))
    with pytest.raises(RecipeError, match=r"missing \['gamma'\], unexpected \['beta'\]"):
        bad.get(progress=False)
    assert not bad.is_cached() and not (blackboxes_root() / "toy-bad").exists()


def test_unknown_recipe_suggests_a_close_name():
    with pytest.raises(RecipeError, match="did you mean 'lcdb'"):
        get_recipe("lcbd")
    assert {"lcdb", "nasbench201-final", "fcnet-final", "hpobench-final", "icml-deepar",
            "icml-xgboost"} <= set(RECIPES)


def _worker(name: str, out: str) -> None:
    d = RECIPES[name].get(progress=False)
    Path(out).write_text(str(float(d["beta"].evaluate({"x": 5}, fidelity=3)["loss"])))


def test_four_processes_convert_once(toy, tmp_path):
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(toy.name, str(tmp_path / f"out{i}.txt"))) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert conversions(tmp_path) == 1
    expected = (5 - 3) ** 2 / 3 + 0.5
    for i in range(4):
        assert float((tmp_path / f"out{i}.txt").read_text()) == pytest.approx(expected)


def _hold_lock(path: str, ready: str, release: str) -> None:
    import time

    import filelock
    with filelock.FileLock(path):
        Path(ready).touch()
        deadline = time.monotonic() + 60
        while not Path(release).exists() and time.monotonic() < deadline:
            time.sleep(0.01)


def test_a_lock_held_too_long_is_a_storage_error_naming_the_lock(toy, tmp_path, monkeypatch):
    import time

    from blackbox_repo.errors import StorageError
    from blackbox_repo.recipes import base
    monkeypatch.setattr(base, "LOCK_TIMEOUT", 0.3)
    lock_file = toy.lock().lock_file
    ready, release = tmp_path / "ready", tmp_path / "release"
    holder = mp.get_context("fork").Process(target=_hold_lock, args=(lock_file, str(ready), str(release)))
    holder.start()
    try:
        while not ready.exists():
            time.sleep(0.01)
        with pytest.raises(StorageError, match=rf"could not acquire {lock_file} within 0 s: another process "
                                               rf"is fetching or converting 'toy-recipe'"):
            toy.get(progress=False)
    finally:
        release.touch()
        holder.join(30)
    assert sorted(toy.get(progress=False)) == ["alpha", "beta"]
