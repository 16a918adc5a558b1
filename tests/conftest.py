"""Suite-wide fixtures: every test runs with its own empty hposim cache; one real S3 endpoint."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def hposim_home(tmp_path, monkeypatch):
    """Point ``$HPOSIM_HOME`` at a fresh folder so tests never touch ``~/.cache/hposim``."""
    home = tmp_path / "hposim-home"
    home.mkdir()
    monkeypatch.setenv("HPOSIM_HOME", str(home))
    monkeypatch.delenv("HPOSIM_MIRROR", raising=False)
    monkeypatch.delenv("HPOSIM_OFFLINE", raising=False)
    return home


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    """A real S3 endpoint: ``moto_server`` (from moto[server]) on 127.0.0.1, one per session.

    Tests reach it through s3fs with the standard AWS variables; each test uses its own bucket.
    """
    exe = Path(sys.executable).with_name("moto_server")
    if not exe.exists():
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = _free_port()
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("moto_server did not start")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: a bigger run of a randomized test (needs HPOSIM_SLOW_TESTS=1)")
