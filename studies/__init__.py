"""Studies: sweeps of methods x benchmarks x seeds, engines, storage, analysis, plots, reports.

Example:
    >>> from studies import Study
    >>> Study.from_dict({"name": "s", "seeds": [0], "methods": {"RS": "RandomSearch"},
    ...                  "benchmarks": {"b": {"blackbox": "x/y", "max_trials": 2}}}).seeds
    [0]
"""
from __future__ import annotations

from studies.layout import StorageError, StudyStore
from studies.runner import RunOutcome, StudyRunSummary, run_study
from studies.spec import BenchmarkSpec, MethodSpec, RunSpec, Study, StudySpecError

__all__ = ["Study", "MethodSpec", "BenchmarkSpec", "RunSpec", "StudySpecError", "StudyStore",
           "StorageError", "run_study", "RunOutcome", "StudyRunSummary"]
