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
           "StorageError", "run_study", "RunOutcome", "StudyRunSummary", "load_study", "load_run",
           "compare", "write_report", "plot_all", "study_status"]

_LAZY = {"load_study": "studies.analysis", "load_run": "studies.run_view", "compare": "studies.compare",
         "write_report": "studies.report", "plot_all": "studies.plots", "study_status": "studies.status"}


def __getattr__(name: str):
    """Analysis, reports and plots are imported on first use (matplotlib is slow to import)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'studies' has no attribute {name!r}")
