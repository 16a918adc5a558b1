"""icml-deepar / icml-xgboost end to end on the genuine upstream CSVs, zipped as upstream and
served from a loopback server (the CSVs come from ../shared, used only by tests)."""
from __future__ import annotations

import gzip
import hashlib
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from recipe_helpers import SHARED_DATA, serve_files, short_simulation

from blackbox_repo import load_blackbox
from blackbox_repo.download import ChecksumError
from blackbox_repo.recipes.icml import ICML_DEEPAR, ICML_XGBOOST

DATA = SHARED_DATA / "quantile-hpo-offline-evals"
# sha256 of the uncompressed upstream CSVs (SOURCE.md beside the data)
CSV_SHA = {"DeepAR": "7850a491a0f8ee7896a341ad443bd373bf4000933abcc86f699493d941d96505",
           "XGBoost": "0cab7ae2e9ed72e9cfc8b5067f7741d465b9337552ebb65dfb418f0fd804f907"}

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"genuine CSVs not found in {DATA}")


def upstream_zip(name: str) -> tuple[bytes, bytes]:
    """(zip bytes, csv bytes): one deflated member named ``<name>.csv.zip``, as upstream."""
    csv = gzip.decompress((DATA / f"{name}.csv.gz").read_bytes())
    assert hashlib.sha256(csv).hexdigest() == CSV_SHA[name]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}.csv.zip", csv)
    return buf.getvalue(), csv


def test_deepar_download_convert_cache_load_simulate(server, register_temporarily):
    blob, csv = upstream_zip("DeepAR")
    recipe = register_temporarily(serve_files(ICML_DEEPAR, server, {"DeepAR.csv.zip": blob}))
    tasks = load_blackbox("icml-deepar")
    assert sorted(tasks) == sorted(ICML_DEEPAR.tasks)
    raw = pd.read_csv(io.BytesIO(csv))
    assert sum(bb.n_configs for bb in tasks.values()) == len(raw) == 2510
    bb = tasks["m4-Daily"]
    assert bb.shape == (240, 1, 1, 5) and bb.metric == "metric_CRPS" and bb.metric_elapsed_time == "metric_time"
    first = raw[raw.task == "m4-Daily"].iloc[0]
    cfg = bb.config(0)
    assert cfg["hp_num_layers"] == 2 and cfg["hp_num_cells"] == round(np.exp(first.hp_num_cells))
    assert cfg["hp_learning_rate"] == pytest.approx(np.exp(first.hp_learning_rate_log))
    assert bb.evaluate(cfg, fidelity=1)["metric_CRPS"] == pytest.approx(first.metric_CRPS, rel=1e-6)
    assert bb.metadata["dataset_time_freq"] == "1D" and bb.metadata["license"] == "Apache-2.0"
    for name, dom in bb.configuration_space.items():
        assert all(dom.contains(v) for v in bb.hyperparameters[name]), name
    n = len(server.requests)
    assert load_blackbox("icml-deepar/solar").n_configs == 212      # from the cache now
    assert len(server.requests) == n == 1
    res = short_simulation(bb)
    assert (res.results["metric_time"] > 0).all()
    assert recipe.is_cached()


def test_xgboost_end_to_end_with_constant_cost(server, register_temporarily):
    blob, _ = upstream_zip("XGBoost")
    recipe = register_temporarily(serve_files(ICML_XGBOOST, server, {"XGBoost.csv.zip": blob}))
    tasks = recipe.get(progress=False)
    assert sorted(tasks) == sorted(ICML_XGBOOST.tasks)
    assert {bb.n_configs for bb in tasks.values()} == {5000}
    bb = tasks["heart"]
    assert bb.metric_elapsed_time is None and bb.objectives_names == ["metric_error"]
    assert float(np.nanmin(bb.objective("metric_error"))) >= 0.0
    assert float(np.nanmax(bb.objective("metric_error"))) <= 0.5
    assert bb.hyperparameters["hp_max_depth_index"].dtype.kind == "i"
    short_simulation(bb, time_per_fidelity=1.0)


def test_tampered_upstream_file_fails_with_a_checksum_error(server):
    blob, _ = upstream_zip("DeepAR")
    recipe = serve_files(ICML_DEEPAR, server, {"DeepAR.csv.zip": blob})
    mid = len(blob) // 2
    server.files["files/icml-deepar/DeepAR.csv.zip"] = blob[:mid] + bytes([blob[mid] ^ 0xFF]) + blob[mid + 1:]
    with pytest.raises(ChecksumError, match="DeepAR.csv.zip"):
        recipe.get(progress=False)
    assert not recipe.is_cached()


def test_pinned_upstream_checksums():
    assert ICML_DEEPAR.files[0].sha256 == "70869c97d28733d7eef2f7dac11a8a846d3e792038acc72017f61fbfb8de0a83"
    assert ICML_XGBOOST.files[0].url.startswith("https://raw.githubusercontent.com/geoalgo/")
    assert "31cdb2ff29576201c365e77cb1d04d94f83bfe1a" in ICML_XGBOOST.files[0].url
