"""``hposim study verify``: check every stored file of a study against what was recorded.

Each run's ``metadata.json`` must parse as an hposim run, and a done run's
``results.parquet`` must have the size and sha256 recorded in it; ``study.yaml`` must parse
as a spec. A folder holding studies (a root) verifies each of them.

Example:
    >>> report = verify_path("results/demo")        # doctest: +SKIP
    >>> report.ok, report.counts                    # doctest: +SKIP
    (True, {'done': 24, 'failed': 0, 'corrupt': 0})
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from studies.layout import SPEC, NotAStudyError, StudyStore

__all__ = ["verify_study", "verify_path", "VerifyReport"]


@dataclass
class VerifyReport:
    """What ``verify_study`` found in one or more studies: run counts and every problem.

    Example:
        >>> r = VerifyReport(["results/demo"], {"done": 2, "failed": 0, "corrupt": 1},
        ...                  ["corrupt results/demo/b/A/0: results.parquet ..."])
        >>> r.ok, r.format().splitlines()[-1]
        (False, '1 study: 3 runs checked: 2 done, 0 failed, 1 corrupt')
    """

    studies: list[str]
    counts: dict[str, int] = field(default_factory=lambda: {"done": 0, "failed": 0, "corrupt": 0})
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def format(self) -> str:
        n = sum(self.counts.values())
        head = f"{len(self.studies)} stud{'y' if len(self.studies) == 1 else 'ies'}: {n} runs checked: " \
               + ", ".join(f"{v} {k}" for k, v in self.counts.items())
        return "\n".join(self.problems + [head])


def verify_study(store: StudyStore, report: VerifyReport | None = None) -> VerifyReport:
    """Verify one study folder (every run file, hashed) into ``report``."""
    report = report or VerifyReport([])
    report.studies.append(store.url)
    spec = store.read_spec()
    if spec is not None:
        from studies.spec import Study, StudySpecError, load_yaml_unique

        try:
            Study.from_dict(load_yaml_unique(spec, "study.yaml"), max_runs=None)
        except StudySpecError as e:
            if "is not valid YAML" in str(e) or "twice" in str(e):
                report.problems.append(f"corrupt {store.url}/{SPEC}: {str(e).splitlines()[0]}")
        except Exception:  # noqa: BLE001 - a spec naming blackboxes this machine lacks is not corruption
            pass
    for st in sorted(store.read_states(warn=False, verify=True).values(), key=lambda s: (s.path,)):
        report.counts[st.status] = report.counts.get(st.status, 0) + 1
        if st.status == "corrupt":
            report.problems.append(f"corrupt {store._display(st.path)}: {st.problem}")
    return report


def verify_path(path: str, storage_options: Mapping[str, Any] | None = None) -> VerifyReport:
    """Verify the study folder at ``path``, or every study in the folder ``path`` (a root)."""
    store = StudyStore.from_study_path(path, storage_options)
    try:
        store.check_readable()
        return verify_study(store)
    except NotAStudyError as not_a_study:
        root = StudyStore(path, "", storage_options)
        try:
            subs = [p for p in sorted(root.fs.ls(root.root_path, detail=False))
                    if root.fs.isdir(p) and root.fs.exists(f"{p}/{SPEC}")]
        except Exception:  # noqa: BLE001 - a path that does not exist: the study error says so
            subs = []
        if not subs:
            raise not_a_study from None
        report = VerifyReport([])
        for p in subs:
            verify_study(StudyStore(path, p.rsplit("/", 1)[-1], storage_options), report)
        return report
