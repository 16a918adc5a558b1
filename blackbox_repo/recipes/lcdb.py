"""LCDB: learning curves over training-set size with real fit times (PyPI package ``lcdb``).

Raw format (lcdb 0.1.0): ``lcdb/database-<metric>.csv`` with columns ``openmlid, learner,
size_train, size_test, outer_seed, inner_seed, traintime, score_train, score_valid,
score_test``, one row per (dataset, learner, anchor, outer split, inner split), and
``lcdb/datasets.csv`` (``openmlid, Name, ...`` meta-features). The CSVs are read as files
from the installed distribution (the package is never imported), or from its sdist.

Conversion: one task per OpenML dataset, named by its id (``"3"``, ``"6"``, ...). The
configuration is the learner (all 20 in every task: a learner without curves on a dataset
is NaN there, never dropped). Fidelity ``size_train`` = the dataset's anchors. Seeds = the
dataset's (outer_seed, inner_seed) pairs, listed in the task's metadata ``seeds``.
Objectives: accuracy and log-loss on train/valid/test, ``fit_time`` (seconds to fit at that
anchor) and ``elapsed_time`` = cumulative fit time over the anchors so far (the cost of
evaluating a learner anchor after anchor). f1/auc files exist only for binary datasets and
are not used.

Example:
    >>> from blackbox_repo.recipes import RECIPES
    >>> r = RECIPES["lcdb"]
    >>> len(r.tasks), r.metric, r.mode
    (248, 'valid_accuracy', 'max')
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, choice
from blackbox_repo.download import RawFile
from blackbox_repo.recipes.base import PackageData, Recipe, RecipeError
from blackbox_repo.recipes.registry import register

__all__ = ["LCDB", "LEARNERS", "OPENML_IDS", "convert"]

KEYS = ["openmlid", "learner", "size_train", "outer_seed", "inner_seed"]
LEARNERS = (
    "SVC_linear", "SVC_poly", "SVC_rbf", "SVC_sigmoid",
    "sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
    "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis",
    "sklearn.ensemble.ExtraTreesClassifier", "sklearn.ensemble.GradientBoostingClassifier",
    "sklearn.ensemble.RandomForestClassifier", "sklearn.linear_model.LogisticRegression",
    "sklearn.linear_model.PassiveAggressiveClassifier", "sklearn.linear_model.Perceptron",
    "sklearn.linear_model.RidgeClassifier", "sklearn.linear_model.SGDClassifier",
    "sklearn.naive_bayes.BernoulliNB", "sklearn.naive_bayes.MultinomialNB",
    "sklearn.neighbors.KNeighborsClassifier", "sklearn.neural_network.MLPClassifier",
    "sklearn.tree.DecisionTreeClassifier", "sklearn.tree.ExtraTreeClassifier",
)
OPENML_IDS = (
    3, 6, 11, 12, 13, 14, 16, 18, 21, 22, 23, 24, 26, 28, 30, 31, 32, 36, 38, 44, 46, 54, 55, 57, 60,
    61, 179, 180, 181, 182, 184, 185, 188, 201, 273, 293, 299, 300, 336, 346, 351, 354, 357, 380, 389,
    390, 391, 392, 393, 395, 396, 398, 399, 401, 446, 554, 679, 715, 718, 720, 722, 723, 727, 728, 734,
    735, 737, 740, 741, 743, 751, 752, 761, 772, 797, 799, 803, 806, 807, 813, 816, 819, 821, 822, 823,
    833, 837, 843, 845, 846, 847, 849, 866, 871, 881, 897, 901, 903, 904, 910, 912, 913, 914, 917, 923,
    930, 934, 953, 958, 959, 962, 966, 971, 976, 977, 978, 979, 980, 991, 993, 995, 1000, 1002, 1018,
    1019, 1020, 1021, 1036, 1040, 1041, 1042, 1049, 1050, 1053, 1056, 1067, 1068, 1069, 1083, 1084, 1085,
    1086, 1087, 1088, 1111, 1112, 1114, 1116, 1119, 1120, 1128, 1130, 1134, 1138, 1139, 1142, 1146, 1161,
    1166, 1216, 1233, 1235, 1236, 1441, 1448, 1450, 1457, 1461, 1464, 1465, 1468, 1475, 1477, 1479, 1483,
    1485, 1486, 1487, 1488, 1489, 1494, 1499, 1503, 1509, 1515, 1566, 1567, 1575, 1590, 1592, 1597, 4134,
    4135, 4137, 4534, 4538, 4541, 23512, 23517, 40498, 40664, 40668, 40670, 40672, 40677, 40685, 40687,
    40701, 40713, 40900, 40910, 40971, 40975, 40978, 40981, 40982, 40983, 40984, 40994, 40996, 41027,
    41142, 41143, 41144, 41145, 41146, 41150, 41156, 41157, 41158, 41159, 41161, 41163, 41164, 41165,
    41166, 41167, 41168, 41169, 41228, 41972, 42732, 42733, 42734, 42742, 42769, 42809, 42810,
)
OBJECTIVES = ("valid_accuracy", "test_accuracy", "train_accuracy", "valid_logloss", "test_logloss",
              "train_logloss", "fit_time", "elapsed_time")
ACCURACY_CSV = "lcdb/database-accuracy.csv"
LOGLOSS_CSV = "lcdb/database-logloss.csv"
DATASETS_CSV = "lcdb/datasets.csv"


def _read(raw_dir: Path) -> tuple[pd.DataFrame, dict[int, str]]:
    cols = KEYS + ["size_test", "traintime", "score_train", "score_valid", "score_test"]
    acc = pd.read_csv(raw_dir / ACCURACY_CSV, usecols=cols)
    loss = pd.read_csv(raw_dir / LOGLOSS_CSV, usecols=KEYS + ["score_train", "score_valid", "score_test"])
    for df, path in ((acc, ACCURACY_CSV), (loss, LOGLOSS_CSV)):
        dup = df.duplicated(KEYS)
        if dup.any():
            raise RecipeError(f"{raw_dir / path}: {int(dup.sum())} duplicated rows for {KEYS}, e.g. "
                              f"{df.loc[dup, KEYS].iloc[0].tolist()}")
    df = acc.rename(columns={"score_train": "train_accuracy", "score_valid": "valid_accuracy",
                             "score_test": "test_accuracy", "traintime": "fit_time"})
    loss = loss.rename(columns={"score_train": "train_logloss", "score_valid": "valid_logloss",
                                "score_test": "test_logloss"})
    df = df.merge(loss, on=KEYS, how="outer", validate="one_to_one")
    unknown = sorted(set(df["learner"].unique()) - set(LEARNERS))
    if unknown:
        raise RecipeError(f"{raw_dir / ACCURACY_CSV} has learners {unknown} not among the {len(LEARNERS)} "
                          f"known ones; this is not lcdb 0.1.0")
    names: dict[int, str] = {}
    meta_path = raw_dir / DATASETS_CSV
    if meta_path.is_file():
        meta = pd.read_csv(meta_path, usecols=["openmlid", "Name"])
        names = {int(i): str(n) for i, n in zip(meta["openmlid"], meta["Name"])}
    return df, names


def convert(raw_dir: Path) -> Iterator[tuple[str, TabularBlackbox]]:
    """Yield ``(openml id, blackbox)`` for every dataset in the CSVs (ascending id)."""
    df, names = _read(Path(raw_dir))
    learner_code = {name: i for i, name in enumerate(LEARNERS)}
    hp = pd.DataFrame({"learner": list(LEARNERS)})
    space = ConfigurationSpace({"learner": choice(list(LEARNERS))})
    value_cols = [o for o in OBJECTIVES if o != "elapsed_time"]
    for openmlid, g in df.groupby("openmlid", sort=True):
        anchors = np.sort(g["size_train"].unique())
        seeds = sorted(set(zip(g["outer_seed"].tolist(), g["inner_seed"].tolist())))
        seed_code = {s: i for i, s in enumerate(seeds)}
        ci = g["learner"].map(learner_code).to_numpy()
        si = np.fromiter((seed_code[s] for s in zip(g["outer_seed"].tolist(), g["inner_seed"].tolist())),
                         dtype=np.intp, count=len(g))
        fi = np.searchsorted(anchors, g["size_train"].to_numpy())
        objs = np.full((len(LEARNERS), len(seeds), len(anchors), len(OBJECTIVES)), np.nan, np.float32)
        for j, col in enumerate(value_cols):
            objs[ci, si, fi, j] = g[col].to_numpy(dtype=np.float64)
        fit = objs[..., OBJECTIVES.index("fit_time")].astype(np.float64)
        elapsed = np.cumsum(np.nan_to_num(fit, nan=0.0), axis=-1)
        elapsed[np.isnan(fit)] = np.nan
        objs[..., OBJECTIVES.index("elapsed_time")] = elapsed
        bb = TabularBlackbox(hp.copy(), objs, fidelity_values=anchors.astype(np.int64),
                             objectives_names=list(OBJECTIVES), configuration_space=space,
                             fidelity_name="size_train", metric_elapsed_time="elapsed_time",
                             metric="valid_accuracy", mode="max")
        bb.metadata.update({
            "openml_id": int(openmlid), "dataset_name": names.get(int(openmlid)),
            "seeds": [[int(o), int(i)] for o, i in seeds], "seed_meaning": "[outer_seed, inner_seed]",
            "size_test": sorted(int(x) for x in g["size_test"].unique()),
            "learners_with_curves": int(g["learner"].nunique()),
        })
        yield str(int(openmlid)), bb


LCDB = Recipe(
    name="lcdb",
    description="LCDB learning curves of 20 scikit-learn learners over training-set size (anchors) "
                "on 248 OpenML classification datasets, with real fit times",
    license="MIT (lcdb package, Felix Mohr)",
    source="PyPI lcdb==0.1.0 (https://github.com/fmohr/lcdb); Mohr et al., LCDB 1.0: An Extensive "
           "Learning Curves Database for Classification Tasks, ECML PKDD 2022",
    tasks=tuple(str(i) for i in OPENML_IDS),
    objectives=OBJECTIVES, metric="valid_accuracy", mode="max", metric_elapsed_time="elapsed_time",
    fidelity_name="size_train", converter=convert,
    package=PackageData(
        distribution="lcdb", version="0.1.0", extra="lcdb",
        files={ACCURACY_CSV: "5bf9f9388d37da47ce5e0edaf67dacfbd12a05ba50b76b5b3f4bf2dce02d85ac",
               LOGLOSS_CSV: "14ebe07028ab47788a0cc2b025a3e8a8af1b8882d6e088e89e4760c9bc0efeaf",
               DATASETS_CSV: "308aba0fca44d5aca14102475fdd275920e54cc48df5f61340ada1b495cbd758"},
        archive=RawFile("lcdb-0.1.0.tar.gz",
                        "https://files.pythonhosted.org/packages/source/l/lcdb/lcdb-0.1.0.tar.gz",
                        "450ea69b249866298653f718d66a825e3d19a4024dd4ff140b89f2e04d4777ae", 68153129),
        archive_prefix="lcdb-0.1.0/"),
    notes="Seeds are per-dataset (outer, inner) split pairs: 25 on most datasets, 125 on some.",
)


register(LCDB)
