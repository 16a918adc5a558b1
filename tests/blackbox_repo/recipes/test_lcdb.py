"""lcdb: a miniature sdist in the genuine layout served over loopback, and real-data checks
against the CSVs of the installed ``lcdb`` package."""
from __future__ import annotations

import dataclasses
import importlib.metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from recipe_helpers import installed, serve_package, short_simulation

from blackbox_repo import load_blackbox
from blackbox_repo.download import OfflineError
from blackbox_repo.recipes import RECIPES
from blackbox_repo.recipes.base import MissingExtraError, RecipeError
from blackbox_repo.recipes.lcdb import LCDB, LEARNERS

COLUMNS = ["openmlid", "learner", "size_train", "size_test", "outer_seed", "inner_seed", "traintime",
           "score_train", "score_valid", "score_test"]


def mini_csvs() -> dict[str, bytes]:
    """Two datasets, three learners (one learner only on dataset 3), 2x2 seeds; dataset 6 lacks
    its last anchor for one learner (a timeout in LCDB terms)."""
    rng = np.random.default_rng(0)
    acc, loss = [], []
    plan = {3: ([16, 23, 32, 45], ["SVC_linear", "sklearn.tree.DecisionTreeClassifier", "SVC_rbf"]),
            6: ([16, 23, 32], ["SVC_linear", "sklearn.tree.DecisionTreeClassifier"])}
    for oid, (anchors, learners) in plan.items():
        for learner in learners:
            for outer in (0, 1):
                for inner in (0, 1):
                    for a in anchors:
                        if oid == 6 and learner == "SVC_linear" and a == 32:
                            continue
                        t = round(float(rng.uniform(0.001, 0.01)) * a, 4)
                        acc.append([oid, learner, a, 100, outer, inner, t] + rng.uniform(0.5, 1, 3).round(4).tolist())
                        loss.append([oid, learner, a, 100, outer, inner, t] + rng.uniform(0, 9, 3).round(4).tolist())
    meta = pd.DataFrame({"openmlid": [3, 6], "Name": ["kr-vs-kp", "letter"], "NumberOfClasses": [2, 26]})
    return {"lcdb/database-accuracy.csv": pd.DataFrame(acc, columns=COLUMNS).to_csv(index=False).encode(),
            "lcdb/database-logloss.csv": pd.DataFrame(loss, columns=COLUMNS).to_csv(index=False).encode(),
            "lcdb/datasets.csv": meta.to_csv(index=False).encode()}


@pytest.fixture
def mini_lcdb(server, register_temporarily):
    members = mini_csvs()
    recipe = serve_package(dataclasses.replace(LCDB, tasks=("3", "6")), server, members)
    return register_temporarily(recipe), members


def test_sdist_download_convert_cache_load_simulate(mini_lcdb, server):
    recipe, members = mini_lcdb
    tasks = load_blackbox("lcdb")
    assert list(tasks) == ["3", "6"]
    bb = tasks["3"]
    assert bb.shape == (20, 4, 4, 8) and bb.fidelity_name == "size_train"
    assert bb.fidelity_values.tolist() == [16, 23, 32, 45]
    assert bb.hyperparameters["learner"].tolist() == list(LEARNERS)     # every learner kept
    assert bb.metadata["seeds"] == [[0, 0], [0, 1], [1, 0], [1, 1]] and bb.metadata["dataset_name"] == "kr-vs-kp"
    acc = pd.read_csv(pd.io.common.BytesIO(members["lcdb/database-accuracy.csv"]))
    row = acc[(acc.openmlid == 3) & (acc.learner == "SVC_rbf") & (acc.outer_seed == 1) & (acc.inner_seed == 0)]
    curve = bb.evaluate({"learner": "SVC_rbf"}, seed=2)
    np.testing.assert_allclose(curve["valid_accuracy"], row.score_valid, rtol=1e-6)
    np.testing.assert_allclose(curve["fit_time"], row.traintime, rtol=1e-5)
    np.testing.assert_allclose(curve["elapsed_time"], np.cumsum(row.traintime), rtol=1e-5)
    assert np.isnan(bb.evaluate({"learner": "sklearn.naive_bayes.BernoulliNB"})["valid_accuracy"]).all()
    six = tasks["6"]
    lin = six.evaluate({"learner": "SVC_linear"}, seed=0)
    assert np.isnan(lin["valid_accuracy"][2]) and np.isnan(lin["elapsed_time"][2])
    assert not np.isnan(lin["elapsed_time"][:2]).any()
    assert len(server.requests_for("pypi/lcdb-0.1.0.tar.gz")) == 1
    short_simulation(bb)
    res = short_simulation(six)           # failed (NaN) anchors are reported as failures, not crashes
    assert set(res.results["decision"]) <= {"continue", "pause", "stop", "complete", "failed"}


def test_offline_without_the_package_names_the_extra(mini_lcdb, monkeypatch):
    recipe, _ = mini_lcdb
    monkeypatch.setenv("HPOSIM_OFFLINE", "1")
    with pytest.raises(OfflineError) as e:
        recipe.get()
    msg = str(e.value)
    assert "pip install 'hposim[lcdb]'" in msg and "lcdb-0.1.0.tar.gz" in msg
    assert str(recipe.raw_dir() / "lcdb-0.1.0.tar.gz") in msg


def test_missing_extra_without_archive_says_which_extra():
    recipe = dataclasses.replace(LCDB, package=dataclasses.replace(LCDB.package, distribution="no-such-dist-xyz",
                                                                   archive=None))
    with pytest.raises(MissingExtraError, match=r"pip install 'hposim\[lcdb\]'"):
        recipe.fetch_raw()


def test_unexpected_learner_is_an_error(server, register_temporarily):
    members = mini_csvs()
    members["lcdb/database-accuracy.csv"] = members["lcdb/database-accuracy.csv"].replace(b"SVC_rbf", b"SVC_new")
    members["lcdb/database-logloss.csv"] = members["lcdb/database-logloss.csv"].replace(b"SVC_rbf", b"SVC_new")
    recipe = serve_package(dataclasses.replace(LCDB, tasks=("3", "6")), server, members)
    with pytest.raises(RecipeError, match="SVC_new"):
        recipe.get(progress=False)


# ---------------------------------------------------------------------- real data
@pytest.mark.skipif(not installed("lcdb"), reason="needs the extra: pip install 'hposim[lcdb]'")
def test_real_lcdb_curve_counts_and_anchors_match_the_package_csvs():
    root = Path(str(importlib.metadata.distribution("lcdb").locate_file("")))
    csv = pd.read_csv(root / "lcdb" / "database-accuracy.csv",
                      usecols=["openmlid", "learner", "size_train", "outer_seed", "inner_seed", "score_valid"])
    tasks = RECIPES["lcdb"].get(progress=False)
    assert len(tasks) == csv.openmlid.nunique() == 248
    curves = csv.groupby(["openmlid", "learner", "outer_seed", "inner_seed"]).size()
    per_task = curves.groupby(level=0).size()
    cells = csv.groupby("openmlid").size()
    for oid, g in csv.groupby("openmlid"):
        bb = tasks[str(oid)]
        assert bb.fidelity_values.tolist() == sorted(g.size_train.unique()), oid
        acc = bb.objective("valid_accuracy")
        assert int((~np.isnan(acc)).any(axis=2).sum()) == per_task[oid], oid       # curve count
        assert int((~np.isnan(acc)).sum()) == cells[oid], oid                      # every cell kept
        assert bb.n_configs == 20
    # one spot check of values and the cumulative fit time
    bb = tasks["3"]
    i = LEARNERS.index("sklearn.ensemble.RandomForestClassifier")
    row = csv[(csv.openmlid == 3) & (csv.learner == LEARNERS[i]) & (csv.outer_seed == 0) & (csv.inner_seed == 0)]
    np.testing.assert_allclose(bb.curve(i, 0)[:, 0], row.sort_values("size_train").score_valid, rtol=1e-6)
    et = bb.objective("elapsed_time")
    assert (np.diff(et, axis=2)[~np.isnan(np.diff(et, axis=2))] >= 0).all()
    short_simulation(bb)
