"""hpob end to end on a miniature hpob-data.zip with hpob-data/meta-{train,validation,test}-dataset.json
({space: {dataset: {"X": [[...]], "y": [[acc]]}}}), read one dataset at a time."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from classic_helpers import serve, simulate_briefly

from blackbox_repo import load_blackbox
from blackbox_repo.recipes.hpob import HPOB


def split_doc(split: str) -> dict:
    rng = np.random.default_rng(len(split))
    doc = {}
    for space, dim, datasets in (("5860", 2, ("14951", "9980")), ("4796", 3, ("3549",)), ("1234", 4, ("77",))):
        doc[space] = {}
        for d in datasets:
            n = 3 + len(split) % 3
            x = rng.uniform(0, 1, (n, dim)).round(6)
            if space == "5860":
                x[:, -1] = (x[:, -1] > 0.5).astype(float)        # a one-hot-like column
            doc[space][d] = {"X": x.tolist(), "y": [[float(v)] for v in rng.uniform(0.5, 1.0, n)]}
    return doc


def archive() -> tuple[bytes, dict]:
    docs = {s: split_doc(s) for s in ("train", "validation", "test")}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for s, doc in docs.items():
            zf.writestr(f"hpob-data/meta-{s}-dataset.json", json.dumps(doc))
    return buf.getvalue(), docs


def test_download_convert_cache_load_simulate(server, register_temporarily):
    blob, docs = archive()
    recipe = register_temporarily(serve(HPOB, server, {HPOB.files[0].filename: blob}))
    tasks = recipe.get(progress=False)
    assert sorted(tasks) == ["4796-3549", "5860-14951", "5860-9980"]      # space 1234 is not in HPO-B-v3
    bb = load_blackbox("hpob/5860-9980")
    n = [len(docs[s]["5860"]["9980"]["X"]) for s in ("train", "validation", "test")]
    assert bb.shape == (sum(n), 1, 1, 1) and (bb.metric, bb.mode) == ("accuracy", "max")
    assert bb.metric_elapsed_time is None and bb.metadata["splits"] == ["train", "validation", "test"]
    x = docs["validation"]["5860"]["9980"]["X"][1]
    y = docs["validation"]["5860"]["9980"]["y"][1][0]
    assert bb.evaluate({"x0": x[0], "x1": x[1]}, fidelity=1)["accuracy"] == pytest.approx(y, rel=1e-6)
    simulate_briefly(bb, time_per_fidelity=1.0)
    assert len(server.requests) == 1
