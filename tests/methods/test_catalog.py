"""``methods.catalog``: every registered method and searcher described from its class, and the
table of docs/methods.md kept equal to the generated one."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from blackbox_repo.configspace import ConfigurationSpace, uniform
from methods import METHODS, SEARCHERS, MethodError, method_arguments
from methods.base import Decision, Scheduler
from methods.catalog import (MULTI_FIDELITY, SEARCHER, SINGLE_FIDELITY, TABLE_BEGIN, TABLE_END, all_methods,
                             all_searchers, common_arguments, describe, describe_any, describe_searcher, main,
                             markdown_table, replace_table)
from methods.registry import COMMON_ARGUMENTS
from methods.searcher import Searcher

DOCS = Path(__file__).resolve().parents[2] / "docs" / "methods.md"
SPACE = ConfigurationSpace({"x": uniform(0.0, 1.0)})
LEVELS = [1, 3, 9, 27]

KNOWN_KINDS = {"RandomSearch": SINGLE_FIDELITY, "FIFO": SINGLE_FIDELITY, "GridSearch": SINGLE_FIDELITY,
               "BayesianOptimization": SINGLE_FIDELITY, "TPE": SINGLE_FIDELITY, "REA": SINGLE_FIDELITY,
               "ASHA": MULTI_FIDELITY, "SyncSH": MULTI_FIDELITY, "SyncHyperband": MULTI_FIDELITY,
               "MedianStopping": MULTI_FIDELITY}


# ---------------------------------------------------------------------------- methods
def test_every_registered_method_is_listed_once():
    infos = all_methods()
    assert sorted(i.name for i in infos) == sorted(METHODS)
    kinds = [i.kind for i in infos]
    assert kinds == sorted(kinds, key=[SINGLE_FIDELITY, MULTI_FIDELITY].index)   # single-fidelity first


@pytest.mark.parametrize("name", sorted(METHODS))
def test_method_description_comes_from_the_class(name):
    cls = METHODS[name]
    info = describe(name)
    assert info.names == (name,)
    assert info.class_path == f"{cls.__module__}.{cls.__qualname__}"
    assert info.doc == inspect.cleandoc(cls.__doc__) and info.summary == info.doc.splitlines()[0]
    assert info.summary.strip(), f"{name} has no one-line description"
    assert info.paper == cls.paper
    assert list(info.arguments) == method_arguments(name)
    assert not set(info.arguments) & set(COMMON_ARGUMENTS)
    signature = inspect.signature(cls.__init__).parameters
    assert info.arguments == {k: signature[k].default for k in info.arguments}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_argument_has_a_default(name):
    missing = [k for k, v in describe(name).arguments.items() if v is inspect.Parameter.empty]
    assert not missing, f"{name}: arguments without a default: {missing}"


@pytest.mark.parametrize("name", sorted(METHODS))
def test_kind_matches_what_the_method_does(name):
    """Single-fidelity methods see no report before a trial ends and run each trial to the top."""
    info = describe(name)
    if name in KNOWN_KINDS:
        assert info.kind == KNOWN_KINDS[name]
    metric = ["loss", "time"] if METHODS[name].multi_objective else "loss"
    scheduler = METHODS[name](SPACE, metric=metric, fidelity_values=LEVELS, seed=0,
                              candidates=[{"x": 0.2}, {"x": 0.5}])
    if info.kind == SINGLE_FIDELITY:
        assert list(scheduler.report_levels()) == []
        assert scheduler.suggest(0.0).max_fidelity in (None, LEVELS[-1])
    else:
        assert info.kind == MULTI_FIDELITY
        assert scheduler.report_levels() is None or len(scheduler.report_levels()) > 1


def test_methods_taking_a_searcher_accept_every_registered_searcher():
    every = tuple(n for s in all_searchers() for n in s.names)
    assert sorted(every) == sorted(SEARCHERS)
    for info in all_methods():
        takes = "searcher" in info.arguments
        assert info.takes_searcher == takes
        usable = tuple(n for n in every if not info.multi_objective or SEARCHERS[n].multi_objective
                       or not SEARCHERS[n].uses_observations)     # several metrics: not every searcher
        assert info.searchers == (usable if takes else ())
    assert describe("ASHA").takes_searcher and not describe("RandomSearch").takes_searcher


def test_lookup_is_case_insensitive_with_a_close_match_hint():
    assert describe("asha").name == "ASHA"
    assert describe("RANDOMSEARCH").name == "RandomSearch"
    with pytest.raises(MethodError) as e:
        describe("ASAH")
    message = str(e.value)
    assert "'ASAH'" in message and "Did you mean 'ASHA'?" in message
    assert all(repr(n) in message for n in METHODS)
    with pytest.raises(MethodError, match="unknown method 'zzzz'; registered methods: .*RandomSearch"):
        describe("zzzz")
    with pytest.raises(MethodError, match="must be a string"):
        describe(3)


def test_describe_any_falls_back_to_the_searchers():
    assert describe_any("asha").kind == MULTI_FIDELITY
    assert describe_any("RANDOM").kind == SEARCHER
    assert describe_any("RandomSearch").kind == SINGLE_FIDELITY
    assert describe_any("tpe").kind == SEARCHER and describe_any("TPE").name == "TPE"   # exact names first
    assert describe_any("Tpe").name == "TPE"                                            # then case-insensitive
    with pytest.raises(MethodError) as e:
        describe_any("randm")
    message = str(e.value)
    assert "unknown method or searcher 'randm'" in message and "'random'" in message
    assert "Did you mean 'random'?" in message


def test_common_arguments_are_listed_once_with_their_defaults():
    common = common_arguments()
    assert list(common) == list(COMMON_ARGUMENTS)
    assert common["metric"] is inspect.Parameter.empty
    assert common["mode"] == "min" and common["seed"] == 0 and common["candidates"] is None


# ---------------------------------------------------------------------------- searchers
def test_every_searcher_class_is_listed_once_with_its_aliases():
    infos = all_searchers()
    assert len(infos) == len(set(SEARCHERS.values()))
    assert sorted(n for i in infos for n in i.names) == sorted(SEARCHERS)
    for info in infos:
        cls = SEARCHERS[info.name]
        assert info.kind == SEARCHER and info.names == cls.names and info.paper == cls.paper
        assert info.summary and info.summary == inspect.cleandoc(cls.__doc__).splitlines()[0]
        assert all(v is not inspect.Parameter.empty for v in info.arguments.values()), info.name
        assert "allow_duplicates" in info.arguments
    assert describe_searcher("Random").names == ("random",)
    with pytest.raises(MethodError, match="unknown searcher 'randon'.*Did you mean 'random'"):
        describe_searcher("randon")


class _Aliased(Searcher):
    """A test searcher with two names.

    Defaults follow Some Library 1.2's ``Thing`` (its ``alpha=0.5``), and more.
    """

    names = ("first-name", "second-name")
    paper = "Nobody 2024, A Test (nowhere)"

    def __init__(self, *, alpha: float = 0.5, allow_duplicates: bool = False):
        super().__init__(allow_duplicates=allow_duplicates)

    def suggest(self, pending):
        return self.random_config()


def test_aliases_are_grouped_and_the_reference_is_read_from_the_docstring(monkeypatch):
    monkeypatch.setitem(SEARCHERS, "first-name", _Aliased)
    monkeypatch.setitem(SEARCHERS, "second-name", _Aliased)
    entries = [i for i in all_searchers() if "first-name" in i.names]
    assert len(entries) == 1
    info = entries[0]
    assert info.names == ("first-name", "second-name") and info.name == "first-name"
    assert info.reference == "Some Library 1.2's ``Thing``"
    assert info.arguments == {"alpha": 0.5, "allow_duplicates": False}
    assert describe_searcher("SECOND-NAME") == info
    assert "`first-name`, `second-name` | searcher | Nobody 2024, A Test (nowhere)" in markdown_table()
    assert describe("ASHA").searchers.count("second-name") == 1


class _RejectsEverything(Scheduler):
    """A method no probe can build."""

    def __init__(self, config_space, *, metric, mode="min", fidelity_values=None, seed=0, candidates=None):
        raise MethodError("no space suits me")

    def suggest(self, time):
        return None

    def on_report(self, trial, fidelity, metrics, time):
        return Decision.CONTINUE


def test_a_method_that_rejects_the_probe_is_named(monkeypatch):
    monkeypatch.setitem(METHODS, "Picky", _RejectsEverything)
    with pytest.raises(MethodError, match="cannot tell the kind of method _RejectsEverything.*no space suits me"):
        describe("picky")


# ---------------------------------------------------------------------------- the docs table
def _generated_part(text: str) -> str:
    begin, end = text.index(TABLE_BEGIN) + len(TABLE_BEGIN) + 1, text.index(TABLE_END)
    return text[begin:end]


def test_docs_hold_exactly_the_generated_table():
    text = DOCS.read_text()
    assert text.count(TABLE_BEGIN) == 1 and text.count(TABLE_END) == 1
    assert _generated_part(text) == markdown_table(), (
        "docs/methods.md is stale: regenerate it with `python -m methods.catalog --write docs/methods.md`")


def test_table_has_a_row_per_method_and_searcher():
    table = markdown_table()
    methods_part = table.split("\nPresets:")[0]             # the presets' table follows
    rows = [line for line in methods_part.splitlines() if line.startswith("| `")]
    assert len(rows) == len(METHODS) + len(set(SEARCHERS.values()))
    for name in METHODS:
        assert any(row.startswith(f"| `{name}` | ") for row in rows), name
    asha = next(row for row in rows if row.startswith("| `ASHA` |"))
    assert "`reduction_factor=3`" in asha and "`searcher='random'`" in asha
    assert "`metric`" in table and "`mode='min'`" in table


def test_replace_table_and_the_write_command(tmp_path, capsys):
    doc = tmp_path / "methods.md"
    doc.write_text(f"# Methods\n\nintro\n\n{TABLE_BEGIN}\nstale\n{TABLE_END}\n\nafter\n")
    assert main(["--write", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Methods\n\nintro\n\n") and text.endswith(f"{TABLE_END}\n\nafter\n")
    assert _generated_part(text) == markdown_table() and "stale" not in text
    assert "wrote the table" in capsys.readouterr().out
    assert main([]) == 0
    assert capsys.readouterr().out == markdown_table()
    with pytest.raises(MethodError, match="no .*BEGIN GENERATED TABLE"):
        replace_table("no markers here", "table")
