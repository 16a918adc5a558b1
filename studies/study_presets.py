"""Study presets: study specs shipped with hposim, runnable by name.

``STUDY_PRESETS`` maps a name to a packaged spec file (``studies/presets/<name>.yaml``, plus the
demo's ``studies/demo_study.yaml``). ``hposim study run --preset NAME`` runs one,
``hposim study presets`` lists them and ``hposim study presets NAME`` prints the spec to copy
and edit (``hposim study presets NAME > my_study.yaml``).

- ``synetune-hypertune``: the study of Syne Tune's visualization tutorial (its
  ``benchmark_hyperband`` example): ASHA, SYNCHB, BOHB, MOBSTER, HYPERTUNE, SYNCMOBSTER and DEHB
  (the presets of ``methods.presets`` with the tutorial's settings) on nas201 x3, fcnet x4 and the
  5 selected lcbench tasks with Syne Tune's workers and budgets, 15 seeds (1,260 runs). Needs
  ``hposim blackbox get nasbench201 fcnet lcbench`` and the lcbench surrogates.
- ``synetune-hypertune-offline``: the same methods and shape (7 x 12 x 15) on tables that need
  no download here: yahpo-lcbench x10 (the same 5 lcbench datasets and 5 hard ones) and the
  embedded MLP tables digits and breast_cancer, with budgets cut to keep the GP methods cheap.
- ``demo``: the study ``make demo`` runs.

Example:
    >>> sorted(STUDY_PRESETS)
    ['demo', 'synetune-hypertune', 'synetune-hypertune-offline']
    >>> study = get_study_preset("synetune-hypertune").study()
    >>> len(study.methods), len(study.benchmarks), len(study.seeds)
    (7, 12, 15)
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from blackbox_repo.errors import InputError
from studies.spec import MAX_RUNS, Study, load_yaml_unique

__all__ = ["STUDY_PRESETS", "StudyPreset", "get_study_preset", "offline_availability"]


@dataclass(frozen=True)
class StudyPreset:
    """A study spec shipped with hposim.

    Example:
        >>> p = STUDY_PRESETS["demo"]
        >>> p.name, p.path.endswith("demo_study.yaml"), p.text().startswith("#")
        ('demo', True, True)
    """

    name: str
    #: the packaged spec file
    path: str

    def text(self) -> str:
        """The spec file as shipped (comments included)."""
        with open(self.path, encoding="utf-8") as f:
            return f.read()

    def data(self) -> Mapping[str, Any]:
        """The parsed spec."""
        return load_yaml_unique(self.text(), f"study preset {self.name!r}")

    def study(self, max_runs: int | None = MAX_RUNS) -> Study:
        """The preset as a ``Study``."""
        return Study.from_dict(self.data(), source=f"study preset {self.name!r} ({self.path})", max_runs=max_runs)

    def description(self) -> str:
        """The spec's ``description``, on one line."""
        return " ".join(str(self.data().get("description", "")).split())


def _packaged() -> dict[str, StudyPreset]:
    root = resources.files("studies")
    out = {"demo": StudyPreset("demo", str(root.joinpath("demo_study.yaml")))}
    for entry in sorted(root.joinpath("presets").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            name = entry.name[: -len(".yaml")]
            out[name] = StudyPreset(name, str(entry))
    return dict(sorted(out.items()))


#: preset name -> ``StudyPreset``
STUDY_PRESETS: Mapping[str, StudyPreset] = _packaged()


def get_study_preset(name: str) -> StudyPreset:
    """The preset ``name``; an ``InputError`` naming the presets that exist otherwise.

    Example:
        >>> get_study_preset("synetune-hypertun")
        Traceback (most recent call last):
        ...
        blackbox_repo.errors.InputError: unknown study preset 'synetune-hypertun'. Did you mean 'synetune-hypertune'? Presets: demo, synetune-hypertune, synetune-hypertune-offline (see `hposim study presets`)
    """
    if name in STUDY_PRESETS:
        return STUDY_PRESETS[name]
    close = difflib.get_close_matches(str(name), list(STUDY_PRESETS), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise InputError(f"unknown study preset {name!r}.{hint} Presets: {', '.join(STUDY_PRESETS)} "
                     f"(see `hposim study presets`)")


def offline_availability(study: Study) -> dict[str, bool]:
    """Benchmark label -> whether its blackbox task is on this machine now (cached or embedded),
    without loading or downloading anything.

    Example:
        >>> all(offline_availability(get_study_preset("demo").study()).values())
        True
    """
    from studies.benchmarks import local_tasks

    records = local_tasks()
    out = {}
    for label, b in study.benchmarks.items():
        kinds = records.get(b.blackbox, {})
        out[label] = any(b.task in kinds.get(kind, ()) for kind in ("embedded", "cached"))
    return out
