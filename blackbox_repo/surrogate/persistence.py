"""A surrogate's files beside its table: ``surrogate.joblib`` (the fitted model and its
features) and ``surrogate.json`` (settings, report card, library versions, the sha256 of the
model file; signed with ``document_sha256``, written with ``fs.write_signed_json``).

Both are written into the table's staging folder by ``write_surrogate_files`` (through
``storage.save_tabular``'s ``write_extra``), so they appear together with the table and are
listed in its ``metadata.json`` (``storage.verify_folder`` re-hashes them). See
docs/architecture.md#surrogates.

Example:
    >>> SURROGATE_JSON, SURROGATE_MODEL
    ('surrogate.json', 'surrogate.joblib')
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blackbox_repo.blackbox import BlackboxError, TabularBlackbox
from blackbox_repo.checksums import sha256_file
from blackbox_repo.configspace import ConfigurationSpace
from blackbox_repo.fs import signature, write_signed_json
from blackbox_repo.report_card import ReportCard
from blackbox_repo.storage import CorruptBlackboxError, load_tabular
from blackbox_repo.surrogate.features import Features
from blackbox_repo.surrogate.models import CURVE_MODELS, CurveModel, SurrogateError

__all__ = ["SURROGATE_JSON", "SURROGATE_MODEL", "SURROGATE_FORMAT_VERSION", "SavedSurrogate",
           "library_versions", "write_surrogate_files", "read_document", "verify_surrogate", "read_surrogate"]

SURROGATE_JSON = "surrogate.json"
SURROGATE_MODEL = "surrogate.joblib"
SURROGATE_FORMAT_VERSION = 1
#: the key of ``surrogate.json`` holding the sha256 of the rest of the document
SIGNATURE_KEY = "document_sha256"
REMEDY = "refit it with `hposim blackbox surrogate`"


def library_versions(family: str) -> dict[str, str]:
    """Versions of the libraries a model of ``family`` depends on (recorded at fit and save,
    compared at load)."""
    return CURVE_MODELS.get(family, CurveModel).versions()


def write_surrogate_files(staging: Path, model: CurveModel, features: Features, *, name: str, task: str,
                          origin: str | None, seeds: str, card: dict) -> list[str]:
    """Write ``surrogate.joblib`` and ``surrogate.json`` into ``staging``; returns their names."""
    import joblib

    model_file = staging / SURROGATE_MODEL
    joblib.dump({"model": model, "features": features}, model_file, compress=3)
    doc = {
        "format_version": SURROGATE_FORMAT_VERSION,
        "name": name, "task": task, "surrogate_of": origin,
        "model": model.family, "seeds": seeds,
        "configuration_space": features.space.to_dict(),
        "versions": library_versions(model.family),
        "files": {SURROGATE_MODEL: {"sha256": sha256_file(model_file), "bytes": model_file.stat().st_size}},
        "report_card": card,
    }
    write_signed_json(staging / SURROGATE_JSON, doc, SIGNATURE_KEY)
    return [SURROGATE_MODEL, SURROGATE_JSON]


def read_document(folder: Path) -> dict:
    """``surrogate.json`` of ``folder``, checked against its signature and format version."""
    path = folder / SURROGATE_JSON
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SurrogateError(f"{folder} holds no surrogate ({SURROGATE_JSON} is missing)") from None
    except (OSError, ValueError) as e:
        raise CorruptBlackboxError(path, f"{path} cannot be read ({e}); {REMEDY}") from None
    if not isinstance(doc, dict):
        raise CorruptBlackboxError(path, f"{path} is not a JSON object; {REMEDY}")
    actual = signature(doc, SIGNATURE_KEY)
    if actual != doc.get(SIGNATURE_KEY):
        raise CorruptBlackboxError(path, f"{path} does not match its checksum (sha256 {actual}, "
                                         f"recorded {doc.get(SIGNATURE_KEY)}); {REMEDY}",
                                   expected=doc.get(SIGNATURE_KEY), actual=actual)
    if doc.get("format_version", 0) > SURROGATE_FORMAT_VERSION:
        raise SurrogateError(f"{path} has format version {doc.get('format_version')}; this hposim reads "
                             f"up to {SURROGATE_FORMAT_VERSION}: upgrade hposim")
    return doc


def verify_surrogate(folder: str | os.PathLike) -> list[str]:
    """Problems with a saved surrogate's own files (``surrogate.json`` and the model file);
    the table beside them is checked by ``storage.verify_folder``. Empty list = fine."""
    folder = Path(folder)
    try:
        doc = read_document(folder)
    except (BlackboxError, CorruptBlackboxError) as e:
        return [str(e)]
    problems = []
    for fname, entry in (doc.get("files") or {}).items():
        path = folder / fname
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        actual = sha256_file(path)
        if actual != entry.get("sha256"):
            problems.append(f"{path}: sha256 {actual}, expected {entry.get('sha256')} "
                            f"({path.stat().st_size} bytes, expected {entry.get('bytes')})")
    return problems


@dataclass
class SavedSurrogate:
    """What ``read_surrogate`` reads from a folder: the table, the fitted model and features
    (with the saved configuration space), the report card and the seed mode.

    Example:
        >>> import numpy as np, pandas as pd, tempfile, os
        >>> from blackbox_repo.surrogate import add_surrogate
        >>> os.environ["HPOSIM_HOME"] = tempfile.mkdtemp()
        >>> t = TabularBlackbox(pd.DataFrame({"x": np.arange(6.0)}), np.ones((6, 1, 2, 1)), [1, 2], ["y"])
        >>> read_surrogate(add_surrogate(t).save("saved-knn", "t")).model.family
        'knn'
    """

    table: TabularBlackbox
    model: CurveModel
    features: Features
    card: ReportCard
    seeds: str


def read_surrogate(folder: Path) -> SavedSurrogate:
    """Read a saved surrogate (checksums verified; a warning when it was fitted with other
    library versions than those installed)."""
    import joblib

    doc = read_document(folder)
    problems = verify_surrogate(folder)
    if problems:
        raise CorruptBlackboxError(folder / SURROGATE_MODEL, "; ".join(problems) + f"; {REMEDY}")
    saved = doc.get("versions") or {}
    now = library_versions(str(doc.get("model")))
    changed = {k: (saved[k], now[k]) for k in saved if k in now and k != "numpy" and saved[k] != now[k]}
    if changed:
        warnings.warn(f"surrogate {folder} was fitted with {changed} (saved, installed); its "
                      f"predictions may differ: {REMEDY}", stacklevel=3)
    table = load_tabular(folder)
    state: dict[str, Any] = joblib.load(folder / SURROGATE_MODEL)
    features = state["features"]
    features.space = ConfigurationSpace.from_dict(doc["configuration_space"])
    card = ReportCard.from_dict(doc.get("report_card") or {"model": doc.get("model"), "seeds": doc.get("seeds")})
    return SavedSurrogate(table=table, model=state["model"], features=features, card=card, seeds=str(doc["seeds"]))
