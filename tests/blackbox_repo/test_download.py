"""Downloads: resume, checksum, retries, offline mode, against a loopback HTTP server."""
from __future__ import annotations

import hashlib
import os

import pytest

from blackbox_repo.download import (ChecksumError, DownloadError, OfflineError, RawFile, download,
                                    fetch_files, sha256_file)
from loopback import LoopbackServer

DATA = bytes(range(256)) * 4096          # 1 MiB
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


def no_sleep(_seconds: float) -> None:
    pass


def test_plain_download_is_atomic_and_verified(server, tmp_path):
    url = server.add("raw/data.bin", DATA)
    dest = download(url, tmp_path / "data.bin", sha256=SHA, progress=False)
    assert dest.read_bytes() == DATA
    assert not (tmp_path / "data.bin.part").exists()
    assert server.requests_for("raw/data.bin") == [None]


def test_truncated_download_resumes_with_range(server, tmp_path):
    url = server.add("data.bin", DATA, faults=["truncate"])
    dest = download(url, tmp_path / "data.bin", sha256=SHA, progress=False, sleep=no_sleep)
    assert sha256_file(dest) == SHA
    ranges = server.requests_for("data.bin")
    assert ranges[0] is None
    assert len(ranges) == 2 and ranges[1].startswith("bytes=") and ranges[1] != "bytes=0-"
    assert int(ranges[1][6:-1]) == len(DATA) // 2     # resumed exactly where the body stopped


def test_partial_file_from_an_earlier_run_is_resumed(server, tmp_path):
    url = server.add("data.bin", DATA)
    (tmp_path / "data.bin.part").write_bytes(DATA[:1000])
    download(url, tmp_path / "data.bin", sha256=SHA, progress=False)
    assert server.requests_for("data.bin") == ["bytes=1000-"]
    assert (tmp_path / "data.bin").read_bytes() == DATA


def test_server_error_mid_way_is_retried_with_backoff(server, tmp_path):
    url = server.add("data.bin", DATA, faults=["truncate", "error", "error", "reset"])
    waits: list[float] = []
    download(url, tmp_path / "data.bin", sha256=SHA, progress=False, sleep=waits.append, backoff=0.5)
    assert (tmp_path / "data.bin").read_bytes() == DATA
    assert waits == [0.5, 1.0, 2.0, 4.0]                 # exponential back-off
    ranges = server.requests_for("data.bin")
    assert len(ranges) == 5 and ranges[-1] == f"bytes={len(DATA) // 2}-"


def test_gives_up_after_retries_and_keeps_the_part(server, tmp_path):
    url = server.add("data.bin", DATA, faults=["truncate"] + ["error"] * 10)
    with pytest.raises(DownloadError, match=r"after 3 attempts.*HTTP 503.*resume"):
        download(url, tmp_path / "data.bin", sha256=SHA, progress=False, retries=2, sleep=no_sleep)
    assert (tmp_path / "data.bin.part").stat().st_size == len(DATA) // 2
    assert not (tmp_path / "data.bin").exists()
    # the next run resumes from the part
    server.faults["data.bin"] = []
    download(url, tmp_path / "data.bin", sha256=SHA, progress=False)
    assert server.requests_for("data.bin")[-1] == f"bytes={len(DATA) // 2}-"


def test_checksum_mismatch_fails_clearly_and_leaves_nothing(server, tmp_path):
    url = server.add("data.bin", DATA[:-1] + b"X")
    with pytest.raises(ChecksumError) as e:
        download(url, tmp_path / "data.bin", sha256=SHA, progress=False)
    msg = str(e.value)
    assert SHA in msg and url in msg and "data.bin" in msg
    assert not (tmp_path / "data.bin").exists() and not (tmp_path / "data.bin.part").exists()


def test_not_found_is_permanent(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(f"{server.base_url}/nope.bin", tmp_path / "nope.bin", progress=False, sleep=no_sleep)
    assert len(server.requests_for("nope.bin")) == 1


def test_connection_refused_by_a_server_that_went_away_is_not_retried(tmp_path):
    # issue 11: refused connections used to be retried (6 attempts, 17 s, the same error 6 times)
    with LoopbackServer() as srv:
        url = f"{srv.base_url}/gone.bin"
    waits: list[float] = []
    with pytest.raises(DownloadError, match="refused the connection"):
        download(url, tmp_path / "gone.bin", retries=2, sleep=waits.append, progress=False)
    assert waits == []


def test_fetch_files_reuses_verified_copies_and_replaces_corrupt_ones(server, tmp_path):
    a, b = b"a" * 5000, b"b" * 7000
    files = [RawFile("x/a.bin", server.add("a.bin", a), hashlib.sha256(a).hexdigest()),
             RawFile("b.bin", server.add("b.bin", b), hashlib.sha256(b).hexdigest())]
    paths = fetch_files(files, tmp_path, progress=False)
    assert paths["x/a.bin"].read_bytes() == a and paths["b.bin"].read_bytes() == b
    n = len(server.requests)
    fetch_files(files, tmp_path, progress=False)
    assert len(server.requests) == n                     # cached and verified: no request
    paths["b.bin"].write_bytes(b"tampered")
    fetch_files(files, tmp_path, progress=False)
    assert paths["b.bin"].read_bytes() == b and len(server.requests) == n + 1


def test_offline_mode_names_every_missing_file_and_never_connects(server, tmp_path, monkeypatch):
    a = b"a" * 100
    present = RawFile("present.bin", server.add("present.bin", a), hashlib.sha256(a).hexdigest())
    (tmp_path / "present.bin").write_bytes(a)
    m1 = RawFile("one.csv.zip", f"{server.base_url}/one.csv.zip", "0" * 64)
    m2 = RawFile("sub/two.tar.gz", f"{server.base_url}/two.tar.gz", "1" * 64)
    monkeypatch.setenv("HPOSIM_OFFLINE", "1")
    with pytest.raises(OfflineError) as e:
        fetch_files([present, m1, m2], tmp_path, what="demo")
    msg = str(e.value)
    assert "HPOSIM_OFFLINE" in msg and "2 raw file(s)" in msg
    for f in (m1, m2):
        assert f.url in msg and str(tmp_path / f.filename) in msg
    assert "present.bin" not in msg
    with pytest.raises(OfflineError, match=os.fspath(tmp_path / "x.bin").replace("\\", "\\\\")):
        download(m1.url, tmp_path / "x.bin")
    assert server.requests == []


def _refusing_url(name: str = "data.bin") -> str:
    """A loopback URL on a port nothing listens on: the connection is refused."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"


@pytest.mark.timing
def test_refused_connection_fails_within_5_seconds(tmp_path):
    import time

    t0 = time.perf_counter()
    with pytest.raises(DownloadError):
        download(_refusing_url(), tmp_path / "data.bin", sha256=SHA, progress=False, sleep=lambda s: None)
    assert time.perf_counter() - t0 < 5


def test_refused_connection_fails_at_once_with_one_message(tmp_path):
    # issue 11: an uncached recipe offline retried 6 times over 17 s, printing the same
    # URLError 6 times
    from blackbox_repo.errors import StorageError
    slept = []
    url = _refusing_url()
    with pytest.raises(DownloadError) as ei:
        download(url, tmp_path / "data.bin", sha256=SHA, progress=False, sleep=slept.append)
    assert slept == []
    msg = str(ei.value)
    assert isinstance(ei.value, StorageError) and ei.value.exit_code == 4
    assert msg.startswith(f"cannot download {url}: 127.0.0.1:") and "refused the connection" in msg
    assert msg.count("Connection refused") == 1 and "HPOSIM_OFFLINE=1" in msg and "--mirror" in msg
    assert not (tmp_path / "data.bin").exists()


def test_unresolvable_host_fails_at_once(tmp_path):
    slept = []
    with pytest.raises(DownloadError, match=r"the host name 'no-such-host\.invalid' cannot be resolved"):
        download("http://no-such-host.invalid/x.bin", tmp_path / "x.bin", progress=False, sleep=slept.append)
    assert slept == []


def test_repeated_transient_errors_are_said_once_with_a_count(server, tmp_path):
    url = server.add("flaky.bin", DATA, faults=["error"] * 3)
    with pytest.raises(DownloadError) as ei:
        download(url, tmp_path / "flaky.bin", progress=False, retries=2, sleep=no_sleep)
    assert str(ei.value).count("HTTP 503") == 1 and "HTTP 503 Service Unavailable (3 times)" in str(ei.value)


def test_recipe_get_from_an_unreachable_source_is_one_storage_error(tmp_path, capsys, monkeypatch):
    from blackbox_repo.recipes import RECIPES
    from studies.cli import main
    from toy_recipe import make_toy_recipe, toy_csv
    data = toy_csv()
    recipe = make_toy_recipe(_refusing_url("toy.csv"), data)
    monkeypatch.setitem(RECIPES, recipe.name, recipe)
    assert main(["blackbox", "get", recipe.name]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refused the connection" in err[0] and "Traceback" not in err[0]
