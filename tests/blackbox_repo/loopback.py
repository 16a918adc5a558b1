"""A loopback HTTP file server for download and recipe tests.

Serves in-memory files on 127.0.0.1 (random port), honours ``Range: bytes=N-`` with 206
responses, logs every request, and can inject faults per path, consumed in order:
``"truncate"`` (announce the full length, send half, close), ``"error"`` (HTTP 503),
``"reset"`` (close without answering).

Example:
    >>> with LoopbackServer() as srv:
    ...     url = srv.add("a.txt", b"hello")
    ...     import urllib.request
    ...     urllib.request.urlopen(url).read()
    b'hello'
"""
from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.faults: dict[str, list[str]] = {}
        self.requests: list[tuple[str, str | None]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:     # keep test output clean
                pass

            def do_GET(self) -> None:
                path = self.path.lstrip("/").split("?")[0]
                rng = self.headers.get("Range")
                with server._lock:
                    server.requests.append((path, rng))
                    queue = server.faults.get(path) or []
                    fault = queue.pop(0) if queue else None
                    data = server.files.get(path)
                if fault == "reset":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "error":
                    body = b"service unavailable"
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                m = re.fullmatch(r"bytes=(\d+)-", rng or "")
                if m:
                    start = int(m.group(1))
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if fault == "truncate":
                    self.wfile.write(body[: max(1, len(body) // 2)])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, path: str, data: bytes, faults: list[str] | None = None) -> str:
        """Serve ``data`` at ``/path`` and return its URL."""
        with self._lock:
            self.files[path] = data
            self.faults[path] = list(faults or [])
        return f"{self.base_url}/{path}"

    def inject(self, path: str, *faults: str) -> None:
        with self._lock:
            self.faults.setdefault(path, []).extend(faults)

    def requests_for(self, path: str) -> list[str | None]:
        """The Range headers of every request made for ``path``."""
        return [r for p, r in self.requests if p == path]

    def __enter__(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
