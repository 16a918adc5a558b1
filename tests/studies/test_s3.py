"""A study on S3: a real moto_server on 127.0.0.1, reached through s3fs with the standard AWS
variables. Run, status, report, resume after damage, and clear errors for bad roots."""
from __future__ import annotations

import socket
import time

import pytest

from studies import StorageError, run_study
from studies.analysis import load_study
from studies.report import write_report
from studies.status import study_status
from test_study_simulated import toy_study

s3fs = pytest.importorskip("s3fs")


@pytest.fixture
def s3_env(moto_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    bucket = f"studies-{time.time_ns()}"
    fs.mkdir(bucket)
    yield fs, bucket
    s3fs.S3FileSystem.clear_instance_cache()


def test_study_on_s3_run_status_report_resume(tmp_path, toy_blackboxes, s3_env):
    fs, bucket = s3_env
    root = f"s3://{bucket}/team/results"
    s = run_study(toy_study(seeds=2), root, engine="local", jobs=2, progress=False)
    assert s.ok, s.format()
    assert s.done == 12
    assert fs.exists(f"{bucket}/team/results/sim/study.yaml")
    assert fs.exists(f"{bucket}/team/results/sim/t1/ASHA/0/results.parquet")
    status = study_status(f"{root}/sim")
    assert (status["status"] == "done").sum() == 12
    # damage: an interrupted upload (results without the metadata marker) and a lost results file
    fs.rm(f"{bucket}/team/results/sim/t1/RS/1/metadata.json")
    fs.rm(f"{bucket}/team/results/sim/t2/SyncHB/0/results.parquet")
    status = study_status(f"{root}/sim")
    assert sorted(status[status.status == "missing"][["benchmark", "method", "seed"]].itertuples(index=False,
                  name=None)) == [("t1", "RS", 1)]
    corrupt = status[status.status == "corrupt"]      # done in its metadata, but its results are gone
    assert list(corrupt[["benchmark", "method", "seed"]].itertuples(index=False, name=None)) == [("t2", "SyncHB", 0)]
    assert "results.parquet is missing" in corrupt["error"].iloc[0]
    with pytest.warns(UserWarning):
        again = run_study(toy_study(seeds=2), root, engine="serial", progress=False)
    assert again.ok and again.skipped == 10 and sorted(o.name for o in again.outcomes) == [
        "t1/RS/1", "t2/SyncHB/0"]
    study = load_study(f"{root}/sim")
    assert len(study.done) == 12
    paths = write_report(study, f"{root}/sim/report", formats=("png",))
    assert paths["html"].startswith("s3://")
    html = fs.cat_file(f"{bucket}/team/results/sim/report/report.html").decode()
    assert "data:image/png;base64," in html
    assert fs.exists(f"{bucket}/team/results/sim/report/run_status.csv")


def test_bad_roots_are_explained(tmp_path, toy_blackboxes, s3_env, monkeypatch):
    fs, bucket = s3_env
    with pytest.raises(StorageError, match="does not exist"):
        run_study(toy_study(seeds=1), "s3://no-such-bucket-xyz/r", progress=False)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    s3fs.S3FileSystem.clear_instance_cache()
    with pytest.raises(StorageError, match="missing credential.*AWS_ACCESS_KEY_ID"):
        run_study(toy_study(seeds=1), f"s3://{bucket}/r", progress=False)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint_is_named(tmp_path, toy_blackboxes, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")   # nothing listens
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3fs.S3FileSystem.clear_instance_cache()
    fast = {"config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1}}
    with pytest.raises(StorageError, match="cannot reach 's3://bucket/r'.*AWS_ENDPOINT_URL"):
        run_study(toy_study(seeds=1), "s3://bucket/r", storage_options=fast, progress=False)
    s3fs.S3FileSystem.clear_instance_cache()


def test_claims_and_checksums_on_s3(tmp_path, s3_env, capsys):
    """On an object store: a live claim is respected, and bit rot in a results file is caught."""
    from fakes import fake_run, fake_study_dict
    from studies import Study
    from studies.cli import main
    from studies.layout import StudyStore

    fs, bucket = s3_env
    root = f"s3://{bucket}/r"
    store = StudyStore(root, "fake")
    claim = store.claim("b1", "A", 0)
    assert claim is not None and store.claim("b1", "A", 0) is None     # this live process holds it
    s = run_study(Study.from_dict(fake_study_dict(seeds=1)), root, run_fn=fake_run, validate=False, progress=False)
    assert s.ok and s.done == 3 and [o.name for o in s.elsewhere] == ["b1/A/0"]
    claim.release()
    s = run_study(Study.from_dict(fake_study_dict(seeds=1)), root, run_fn=fake_run, validate=False, progress=False)
    assert s.done == 1 and s.skipped == 3
    key = f"{bucket}/r/fake/b2/B/0/results.parquet"
    data = bytearray(fs.cat_file(key))
    data[len(data) // 2] ^= 0x01
    fs.pipe_file(key, bytes(data))
    assert main(["study", "verify", f"{root}/fake"]) == 3
    assert "corrupt s3://" in capsys.readouterr().out
    table = study_status(f"{root}/fake")
    assert table.set_index(["benchmark", "method", "seed"]).loc[("b2", "B", 0), "status"] == "corrupt"


def test_stale_runs_on_s3_refused_recomputed_and_an_interrupted_replacement_restored(tmp_path, s3_env):
    """The same fingerprint path on an object store, and a replacement killed mid-way loses nothing."""
    import json

    from fakes import fake_run, fake_study_dict
    from studies import Study
    from studies.fingerprint import StaleRunsError

    fs, bucket = s3_env
    root = f"s3://{bucket}/r"

    def run(d, **kw):
        return run_study(Study.from_dict(d), root, run_fn=fake_run, validate=False, progress=False, **kw)

    assert run(fake_study_dict(seeds=1)).done == 4
    base = f"{bucket}/r/fake"
    meta = json.loads(fs.cat_file(f"{base}/b1/A/0/metadata.json"))
    assert meta["fingerprint"]["settings"]["benchmark"]["stop"] == {"max_trials": 6}
    with pytest.raises(StaleRunsError, match=r"b1 / A: 1 run \(seed 0\): benchmark.stop.max_trials: 6 -> 4"):
        run(fake_study_dict(seeds=1, max_trials=4))
    # a writer killed while replacing b1/A/0: the copy in _replaced/ is made, the marker removed,
    # the new results half written
    old_results = fs.cat_file(f"{base}/b1/A/0/results.parquet")
    fs.copy(f"{base}/b1/A/0/results.parquet", f"{base}/_replaced/b1/A/0/results.parquet")
    fs.copy(f"{base}/b1/A/0/metadata.json", f"{base}/_replaced/b1/A/0/metadata.json")
    fs.rm_file(f"{base}/b1/A/0/metadata.json")
    fs.pipe_file(f"{base}/b1/A/0/results.parquet", b"partial")
    assert study_status(f"{root}/fake").set_index(["benchmark", "method", "seed"]).loc[
        ("b1", "A", 0), "status"] == "missing"
    s = run(fake_study_dict(seeds=1, max_trials=4), stale="keep")
    assert s.ok and s.done == 0 and s.stale == 4        # the old run was restored (else it would run now)
    assert fs.cat_file(f"{base}/b1/A/0/results.parquet") == old_results
    assert not fs.exists(f"{base}/_replaced/b1/A/0/metadata.json")
    s = run(fake_study_dict(seeds=1, max_trials=4), stale="rerun")
    assert s.ok and s.done == 4 and not fs.exists(f"{base}/_replaced/b1/A/0/metadata.json")
    meta = json.loads(fs.cat_file(f"{base}/b1/A/0/metadata.json"))
    assert meta["fingerprint"]["settings"]["benchmark"]["stop"] == {"max_trials": 4}
    assert fs.cat_file(f"{base}/b1/A/0/results.parquet") != old_results
    table = study_status(f"{root}/fake")
    assert (table["status"] == "done").all() and not table["stale"].any()
