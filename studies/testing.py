"""A pytest helper: assert that a scheduler is not worse than a baseline, in seconds.

    def test_my_asha_not_worse(tmp_path):
        from studies.testing import assert_not_worse
        assert_not_worse({"method": "MyASHA", "reduction_factor": 3}, baseline="ASHA", root=tmp_path)

The candidate and the baseline are methods (a registered name, or ``{"method": name,
**arguments}``). The baseline can also be a recorded study folder (``baseline_study=``)
holding the baseline's runs: then only the candidate runs, on that study's benchmarks and
seeds. Benchmarks default to every task of the embedded blackbox with a short budget.

Example:
    >>> assert_not_worse("RandomSearch", baseline="RandomSearch", seeds=2)    # doctest: +SKIP
"""
from __future__ import annotations

import tempfile
from typing import Any, Mapping, Sequence

import yaml

from blackbox_repo.errors import InputError
from studies.compare import Comparison, compare
from studies.runner import run_study
from studies.spec import Study

__all__ = ["assert_not_worse", "default_benchmarks"]


def default_benchmarks(max_time: float = 600.0, n_workers: int = 4) -> dict:
    """Every task of the embedded blackbox, with a short simulated budget."""
    from blackbox_repo import DEFAULT_BLACKBOX
    from studies.cache import blackbox_tasks

    return {t: {"blackbox": f"{DEFAULT_BLACKBOX}/{t}", "n_workers": n_workers, "max_time": max_time}
            for t in blackbox_tasks(DEFAULT_BLACKBOX)}


def _method(m: "str | Mapping[str, Any]") -> dict:
    return {"method": m} if isinstance(m, str) else dict(m)


def assert_not_worse(candidate: "str | Mapping[str, Any]", baseline: "str | Mapping[str, Any] | None" = None, *,
                     baseline_study: str | None = None, baseline_label: str | None = None,
                     benchmarks: Mapping[str, Mapping[str, Any]] | None = None, seeds: "int | Sequence[int]" = 10,
                     alpha: float = 0.05, min_effect: float = 0.0, root: str | None = None,
                     engine: str = "serial", jobs: int = 1) -> Comparison:
    """Run the candidate (and the baseline unless recorded) and fail if it is worse.

    Raises ``AssertionError`` with the comparison's summary; returns the ``Comparison``."""
    cand = _method(candidate)
    if baseline_study is not None:
        from studies.layout import StudyStore

        store = StudyStore.from_study_path(baseline_study)
        spec = yaml.safe_load(store.read_spec() or "{}")
        if not spec:
            raise InputError(f"{baseline_study} has no study.yaml: record the baseline with run_study first")
        label = baseline_label or (baseline if isinstance(baseline, str) else None) or next(iter(spec["methods"]))
        if label not in spec["methods"]:
            raise InputError(f"baseline {label!r} is not in {baseline_study}; methods: {list(spec['methods'])}")
        cand_label = "candidate" if label != "candidate" else "candidate-new"
        spec["methods"] = {cand_label: cand}
        study = Study.from_dict(spec)
        # the candidate runs elsewhere; the recorded folder is only read
        root = str(root) if root is not None else tempfile.mkdtemp(prefix="hposim-not-worse-")
        summary = run_study(study, root, engine=engine, jobs=jobs, progress=False)
        from studies.analysis import load_study

        recorded = load_study(baseline_study).select(methods=[label])
        path = recorded + load_study(f"{root}/{study.name}")
    else:
        if baseline is None:
            raise InputError("give baseline= (a method) or baseline_study= (a recorded study folder)")
        label, cand_label = "baseline", "candidate"
        study = Study.from_dict({"name": "not-worse", "seeds": seeds,
                                 "methods": {label: _method(baseline), cand_label: cand},
                                 "benchmarks": dict(benchmarks or default_benchmarks())})
        root = str(root) if root is not None else tempfile.mkdtemp(prefix="hposim-not-worse-")
        summary = run_study(study, root, engine=engine, jobs=jobs, progress=False)
        path = f"{root}/{study.name}"
    if not summary.ok:
        raise AssertionError("runs failed before the comparison:\n" + summary.format())
    result = compare(path, baseline=label, candidate=cand_label, alpha=alpha, min_effect=min_effect)
    if result.worse:
        raise AssertionError(result.format())
    return result
