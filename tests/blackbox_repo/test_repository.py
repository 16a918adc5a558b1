"""The blackbox repository: locations, lookup order, listing, errors, providers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blackbox_repo
from blackbox_repo import repository
from blackbox_repo.blackbox import BlackboxError, TabularBlackbox
from blackbox_repo.repository import (BlackboxProvider, BlackboxRecord, CacheProvider, EmbeddedProvider,
                                      UnknownBlackboxError, blackbox_folder,
                                      blackboxes_root, list_blackboxes, load_blackbox,
                                      parse_blackbox_ref, register_provider, save_blackbox)
from blackbox_repo.repository import BlackboxExistsError, save_blackboxes
from blackbox_repo.storage import CorruptBlackboxError, save_tabular


_REAL_EMBEDDED_ROOT = repository.embedded_root


@pytest.fixture(autouse=True)
def only_local_providers(monkeypatch, tmp_path):
    """These tests are about the cache and embedded providers: other registered providers
    (recipes, mirror) are set aside; ``test_providers_are_tried_in_order`` adds one back.
    The package's own embedded blackboxes are hidden too (an empty embedded folder), so
    listings hold only what each test creates; the ``embedded`` fixture supplies its own."""
    assert [p.kind for p in repository.providers()][:2] == ["cached", "embedded"]
    monkeypatch.setattr(repository, "_PROVIDERS", [CacheProvider(), EmbeddedProvider()])
    empty = tmp_path / "no-embedded"
    empty.mkdir()
    monkeypatch.setattr(repository, "embedded_root", lambda: empty)



def table(value: float = 0.5, n: int = 4, description: str | None = None) -> TabularBlackbox:
    hp = pd.DataFrame({"lr": [10.0 ** -k for k in range(n)], "act": ["relu", "tanh"] * (n // 2)})
    obj = np.full((n, 2, 3, 2), value, dtype=np.float32)
    obj[..., 1] = np.arange(1, 4, dtype=np.float32)
    meta = {"description": description} if description else {}
    return TabularBlackbox(hp, obj, fidelity_values=[1, 2, 3], objectives_names=["error", "time"],
                           metric_elapsed_time="time", metadata=meta)


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    """A stand-in for ``blackbox_repo/embedded``: two tasks of a blackbox "emb"."""
    root = tmp_path / "embedded"
    for task, v in (("iris", 0.1), ("wine-2", 0.2)):
        save_tabular(table(v, description="embedded test table"), root / "emb" / task, name="emb", task=task,
                     source="sklearn", build_cache=False)
    for lock in root.rglob("*.lock"):
        lock.unlink()
    monkeypatch.setattr(repository, "embedded_root", lambda: root)
    return root


def test_hposim_home_is_respected(hposim_home, monkeypatch, tmp_path):
    assert repository.hposim_home() == hposim_home
    assert blackboxes_root() == hposim_home / "blackboxes"
    assert blackbox_folder("a", "ImageNet16-120") == hposim_home / "blackboxes" / "a" / "ImageNet16-120"
    folder = save_blackbox(table(), "mine", "ImageNet16-120")
    assert folder == hposim_home / "blackboxes" / "mine" / "ImageNet16-120"
    monkeypatch.setenv("HPOSIM_HOME", str(tmp_path / "other"))
    assert repository.hposim_home() == tmp_path / "other"
    with pytest.raises(UnknownBlackboxError):
        load_blackbox("mine")
    monkeypatch.delenv("HPOSIM_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert repository.hposim_home() == tmp_path / "user" / ".cache" / "hposim"


def test_save_and_load_by_name_task_and_ref():
    save_blackbox(table(0.1), "fam", "cifar10")
    table(0.2).save("fam", "ImageNet16-120")
    both = load_blackbox("fam")
    assert sorted(both) == ["ImageNet16-120", "cifar10"]
    assert float(both["cifar10"].objectives[0, 0, 0, 0]) == np.float32(0.1)
    one = load_blackbox("fam", "ImageNet16-120")
    assert isinstance(one, TabularBlackbox) and float(one.objectives[0, 0, 0, 0]) == np.float32(0.2)
    assert load_blackbox("fam/cifar10").metadata["task"] == "cifar10"
    assert blackbox_repo.load_blackbox is load_blackbox
    assert table().save("single").name == "default"
    assert list(load_blackbox("single")) == ["default"]


def test_resave_refuses_an_existing_task_unless_forced():
    save_blackbox(table(0.1), "r", "t")
    with pytest.raises(BlackboxExistsError, match=r"blackbox r/t already exists in the cache .*force=True"):
        save_blackbox(table(0.7), "r", "t")
    assert float(load_blackbox("r", "t").objectives[1, 1, 1, 0]) == np.float32(0.1)
    save_blackbox(table(0.7), "r", "t", force=True)
    assert float(load_blackbox("r", "t").objectives[1, 1, 1, 0]) == np.float32(0.7)
    save_blackbox(table(0.2), "r", "another-task")          # a new task of the family is no overwrite
    assert sorted(load_blackbox("r")) == ["another-task", "t"]


def test_save_blackbox_refuses_embedded_and_recipe_names(embedded):
    register_provider(DictProvider({"far": {"t1": table(0.3)}}))
    for name, what in (("emb", "an embedded blackbox"), ("far", "a recipe")):
        for force in (False, True):
            with pytest.raises(BlackboxError, match=f"'{name}' is the name of {what} and is reserved"):
                save_blackbox(table(), name, "iris", force=force)
            with pytest.raises(BlackboxError, match="reserved"):
                save_blackboxes({"iris": table()}, name, force=force)
    assert not (blackboxes_root() / "emb").exists() and not (blackboxes_root() / "far").exists()
    assert float(load_blackbox("emb", "iris").objectives[0, 0, 0, 0]) == np.float32(0.1)


def test_save_blackboxes_is_all_or_nothing_and_refuses_an_existing_family():
    paths = save_blackboxes({"a": table(0.1), "b": table(0.2)}, "fam")
    assert sorted(paths) == ["a", "b"] and all(p.is_dir() for p in paths.values())
    with pytest.raises(BlackboxExistsError, match=r"'fam' already exists in the cache \(tasks: a, b\)"):
        save_blackboxes({"c": table(0.3)}, "fam")
    save_blackbox(table(0.4), "other", "x")
    with pytest.raises(BlackboxError, match="expected a TabularBlackbox"):   # checked before anything is written
        save_blackboxes({"c": table(0.3), "d": "not a table"}, "fam", force=True)
    assert sorted(load_blackbox("fam")) == ["a", "b"]
    save_blackboxes({"c": table(0.3)}, "fam", force=True)       # force replaces the whole family
    assert sorted(load_blackbox("fam")) == ["c"]
    assert not [p for p in blackboxes_root().iterdir() if p.name.startswith(".")]


def test_unknown_name_and_task_errors():
    with pytest.raises(UnknownBlackboxError, match="no blackboxes are known"):
        load_blackbox("anything")
    save_blackbox(table(), "nasbench201", "cifar10")
    save_blackbox(table(), "nasbench201", "ImageNet16-120")
    with pytest.raises(UnknownBlackboxError) as ei:
        load_blackbox("nasbench210")
    assert str(ei.value) == ("unknown blackbox 'nasbench210' (did you mean 'nasbench201'?); "
                             "known blackboxes: ['nasbench201']")
    with pytest.raises(UnknownBlackboxError) as ei:
        load_blackbox("nasbench201", "ImageNet16-12")
    assert str(ei.value) == ("blackbox 'nasbench201' has no task 'ImageNet16-12' (did you mean "
                             "'ImageNet16-120'?); its tasks: ['ImageNet16-120', 'cifar10']")
    with pytest.raises(UnknownBlackboxError, match=r"'zzz'; known blackboxes"):
        load_blackbox("zzz")


@pytest.mark.parametrize("ref, expected", [("a", ("a", None)), ("a/b", ("a", "b")),
                                           ("nasbench201/ImageNet16-120", ("nasbench201", "ImageNet16-120"))])
def test_parse_ref(ref, expected):
    assert parse_blackbox_ref(ref) == expected


@pytest.mark.parametrize("ref", ["", "a/b/c", "a/", "/b", "../x", "a/.."])
def test_parse_ref_rejects(ref):
    with pytest.raises(BlackboxError, match="is not valid"):
        parse_blackbox_ref(ref)


@pytest.mark.parametrize("name", ["..", "a/b", "", ".x", "t.lock"])
def test_bad_names_rejected_everywhere(name):
    for call in (lambda: save_blackbox(table(), name, "t"), lambda: save_blackbox(table(), "ok", name),
                 lambda: load_blackbox("ok", name) if "/" not in name else parse_blackbox_ref(f"ok/{name}")):
        with pytest.raises(BlackboxError, match="is not valid"):
            call()


def test_list_blackboxes_cached(hposim_home):
    save_blackbox(table(description="two tasks"), "fam", "a", source={"url": "http://x"})
    save_blackbox(table(), "fam", "b")
    save_blackbox(table(), "other")
    (hposim_home / "blackboxes" / "fam" / ".b.tmp-crashed").mkdir()  # ignored
    (hposim_home / "blackboxes" / "empty").mkdir()  # no task folders: not listed
    recs = list_blackboxes()
    assert [r.name for r in recs] == ["fam", "other"]
    fam = recs[0]
    assert isinstance(fam, BlackboxRecord)
    assert (fam.tasks, fam.kind, fam.cached) == (["a", "b"], "cached", True)
    assert fam.source == {"url": "http://x"} and fam.description == "two tasks"
    on_disk = sum(p.stat().st_size for t in ("a", "b")
                  for p in (hposim_home / "blackboxes" / "fam" / t).iterdir())
    assert fam.size_bytes == on_disk > 0


def test_list_survives_corrupt_metadata(hposim_home):
    folder = save_blackbox(table(description="d"), "bad", "t")
    (folder / "metadata.json").write_text("{ truncated")
    rec = list_blackboxes()[0]
    assert (rec.name, rec.tasks, rec.description) == ("bad", ["t"], "")
    # saved by the user: `hposim blackbox get bad --force` could not work (issue 11)
    with pytest.raises(CorruptBlackboxError, match=r"re-import it .*--name bad --force.* or re-save it") as ei:
        load_blackbox("bad", "t")
    assert "blackbox get" not in str(ei.value)


def test_deleted_metadata_says_damaged_and_how_to_repair_not_unknown(tmp_path):
    # issue 11: a deleted metadata.json made the blackbox "unknown (did you mean ...)"
    src = tmp_path / "table.csv"
    src.write_text("x,loss\n1,0.5\n2,0.25\n")
    from blackbox_repo.importing import import_table
    save_blackboxes(import_table(src, config_cols="x").blackboxes, "mine")
    save_blackbox(table(), "other", "t")
    folder = blackbox_folder("mine", "default")
    assert repository.repair_advice("mine", "default") == (
        f"re-import it: `hposim blackbox import {src.resolve()} --name mine --force ...` (same options as before)")
    (folder / "metadata.json").unlink()
    for call in (lambda: load_blackbox("mine"), lambda: load_blackbox("mine", "default"),
                 lambda: load_blackbox("mine/default")):
        with pytest.raises(CorruptBlackboxError, match=r"blackbox mine/default is damaged: .*metadata.json is "
                                                       r"missing.*re-import it .*--name mine --force") as ei:
            call()
        assert "unknown" not in str(ei.value) and "did you mean" not in str(ei.value)
    assert repository.damaged_tasks("mine") == ["default"]
    assert repository.verify_task(folder) == [f"{folder / 'metadata.json'} is missing (the folder is damaged)"]
    with pytest.raises(BlackboxExistsError, match="damaged"):
        save_blackbox(table(), "mine", "default")
    save_blackbox(table(), "mine", "default", force=True)
    assert load_blackbox("mine", "default").shape == table().shape


def test_repair_advice_depends_on_the_origin():
    register_provider(DictProvider({"far": {"t1": table(0.3)}}))
    assert repository.repair_advice("far", "t1") == "run `hposim blackbox get far --force` to fetch it again"
    assert "re-save it" in repository.repair_advice("mine", "t")


def test_embedded_blackbox_loads_with_cache_in_home(embedded, hposim_home):
    bbs = load_blackbox("emb")
    assert sorted(bbs) == ["iris", "wine-2"]
    assert float(bbs["wine-2"].objectives[0, 0, 0, 0]) == np.float32(0.2)
    assert (hposim_home / "cache" / "emb" / "iris" / "objectives.npy").is_file()
    assert not list(embedded.rglob("objectives.npy")) and not list(embedded.rglob("*.lock"))
    rec = list_blackboxes()[0]
    assert (rec.name, rec.kind, rec.cached, rec.tasks, rec.source) == ("emb", "embedded", True,
                                                                        ["iris", "wine-2"], "sklearn")
    assert rec.description == "embedded test table"


def test_cache_takes_precedence_over_embedded(embedded):
    # save_blackbox refuses embedded names; a copy in the cache still takes precedence
    save_tabular(table(0.9), blackbox_folder("emb", "iris"), name="emb", task="iris")
    save_tabular(table(0.8), blackbox_folder("emb", "extra-task"), name="emb", task="extra-task")
    bbs = load_blackbox("emb")
    assert sorted(bbs) == ["extra-task", "iris", "wine-2"]
    assert float(bbs["iris"].objectives[0, 0, 0, 0]) == np.float32(0.9)
    assert float(bbs["wine-2"].objectives[0, 0, 0, 0]) == np.float32(0.2)
    rec = list_blackboxes()[0]
    assert (rec.kind, rec.cached, sorted(rec.tasks)) == ("embedded", True, ["extra-task", "iris", "wine-2"])


def test_corrupt_embedded_advises_reinstall(embedded):
    path = embedded / "emb" / "iris" / "hyperparameters.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptBlackboxError, match="reinstall") as ei:
        load_blackbox("emb", "iris")
    assert "hyperparameters.parquet" in str(ei.value) and ei.value.expected in str(ei.value)


def test_real_embedded_root_is_the_package_folder():
    assert _REAL_EMBEDDED_ROOT() == Path(repository.__file__).resolve().parent / "embedded"
    assert blackbox_repo.DEFAULT_BLACKBOX == "mlp-sklearn"


class DictProvider(BlackboxProvider):
    """An in-memory provider, as a mirror or recipe provider would plug in."""

    kind = "recipe"

    def __init__(self, tables: dict[str, dict[str, TabularBlackbox]]):
        self.tables = tables
        self.loaded: list[tuple[str, str]] = []

    def names(self):
        return sorted(self.tables)

    def tasks(self, name):
        return sorted(self.tables.get(name, {}))

    def load(self, name, task):
        self.loaded.append((name, task))
        return self.tables[name][task]

    def record(self, name):
        return BlackboxRecord(name, self.tasks(name), self.kind, cached=False, description="fetched on demand")


def test_providers_are_tried_in_order():
    remote = DictProvider({"far": {"t1": table(0.3), "t2": table(0.4)}, "both": {"x": table(0.5)}})
    register_provider(remote)
    assert [p.kind for p in repository.providers()] == ["cached", "embedded", "recipe"]
    assert float(load_blackbox("far", "t2").objectives[0, 0, 0, 0]) == np.float32(0.4)
    save_tabular(table(0.6), blackbox_folder("both", "x"), name="both", task="x")   # as a fetched recipe
    assert float(load_blackbox("both", "x").objectives[0, 0, 0, 0]) == np.float32(0.6)
    assert remote.loaded == [("far", "t2")]
    recs = {r.name: r for r in list_blackboxes()}
    assert (recs["far"].kind, recs["far"].cached, recs["far"].description) == ("recipe", False,
                                                                               "fetched on demand")
    assert (recs["both"].kind, recs["both"].cached) == ("recipe", True)
    with pytest.raises(UnknownBlackboxError, match="did you mean 'far'"):
        load_blackbox("fat")
    replacement = DictProvider({})
    register_provider(replacement, before="cached")
    assert repository.providers()[2] is replacement
    with pytest.raises(BlackboxError, match="no provider of kind 'nope'"):
        register_provider(type("P", (DictProvider,), {"kind": "mirror"})({}), before="nope")


def test_save_refuses_a_metric_named_like_a_result_column():
    # issue 11: `best` read the simulator's `time` column instead of an objective named `time`
    bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.ones((2, 1, 1, 1), np.float32), fidelity_values=[1],
                         objectives_names=["time"])
    for call in (lambda: save_blackbox(bb, "timed"), lambda: save_blackboxes({"t": bb}, "timed")):
        with pytest.raises(BlackboxError, match="metric 'time' is the name of a column the simulator adds"):
            call()
    assert not (blackboxes_root() / "timed").exists()
