"""Where a study's files live, and how a run is written so that it is done only once complete.

Layout under any fsspec URL ``root`` (a local folder, ``s3://bucket/prefix``, ...)::

    <root>/<study>/study.yaml                                  the spec (last run of the study)
    <root>/<study>/<benchmark>/<method>/<seed>/results.parquet one row per report
    <root>/<study>/<benchmark>/<method>/<seed>/metadata.json   status done|failed, versions, error, checksums
    <root>/<study>/_running/<benchmark>/<method>/<seed>.json   run claims (removed when the run ends)
    <root>/<study>/_replaced/<benchmark>/<method>/<seed>/      object stores: a run being replaced (removed after)

Atomicity: locally a run is written into a hidden temporary folder beside its final place
and renamed into place (a rename is atomic). On object stores, ``results.parquet`` is
uploaded first and ``metadata.json`` last: a single PUT is atomic, so the marker exists
only once everything else does. Either way a run counts as done only when
``metadata.json`` says ``done`` and ``results.parquet`` has the size it records. Files are
not fsync'ed (a killed process loses nothing already written; after a power loss, a
truncated file fails the size check and the run is recomputed).

Claims: a worker computes a run only after claiming it (``StudyStore.claim``), so two
``hposim study run`` on the same root never compute a run twice. Locally a claim is the
marker file ``_running/.../<seed>.json`` (host, pid, start time) held under an exclusive
``flock``: taking it is atomic, and the kernel releases it when its process dies, so the
claim of a killed run is taken over at once. On object stores (no locks) a claim is the
same marker, honoured while its process lives (same host) or, from another host, for
``REMOTE_CLAIM_SECONDS``; two processes claiming in the same instant may both compute.

Example:
    >>> store = StudyStore("/tmp/results", "demo")
    >>> store.run_dir("digits", "ASHA", 3).endswith("demo/digits/ASHA/3")
    True
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import fsspec
from fsspec.implementations.local import LocalFileSystem

from blackbox_repo import errors
from blackbox_repo.fs import write_bytes_atomic

__all__ = ["StudyStore", "StorageError", "NotAStudyError", "RunIntegrityError", "RunState", "RunClaim",
           "results_problem", "RESULTS", "METADATA", "RUN_FORMAT", "open_store"]

RESULTS = "results.parquet"
METADATA = "metadata.json"
SPEC = "study.yaml"
RUNNING = "_running"
#: object stores: a run being replaced is copied here first, and restored if its replacement never completes
REPLACED = "_replaced"
RUN_FORMAT = "hposim-run"
RUN_FORMAT_VERSION = 1
#: how long a claim written by another host is honoured on an object store (no locks there)
REMOTE_CLAIM_SECONDS = 6 * 3600.0


class StorageError(errors.StorageError):
    """The study root cannot be reached or written (the message says which root and why)."""


class RunIntegrityError(errors.IntegrityError):
    """A stored run's files do not match what its ``metadata.json`` records (exit status 3)."""


class NotAStudyError(errors.InputError):
    """A path given as a study folder holds no study (no ``study.yaml`` and no runs).

    The message suggests a nearby study folder when there is one.

    Example:
        >>> import tempfile
        >>> store = StudyStore.from_study_path(tempfile.mkdtemp())
        >>> try:
        ...     store.check_readable()
        ... except NotAStudyError as e:
        ...     print("is not a study folder" in str(e))
        True
    """


@dataclass
class RunState:
    """The state of one cell as stored: ``done``, ``failed`` or ``corrupt``.

    ``corrupt``: its ``metadata.json`` cannot be parsed, or it says ``done`` but its
    ``results.parquet`` is missing, has another size, or (when verified) another sha256
    than recorded; ``problem`` says which. A corrupt run is never used and is recomputed.

    Example:
        >>> import tempfile, pandas as pd
        >>> store = StudyStore(tempfile.mkdtemp(), "demo")
        >>> from simulator.results import encode_run
        >>> data = encode_run(pd.DataFrame({"trial_id": [0], "loss": [0.5]}))
        >>> _ = store.write_run("digits", "RS", 0, {"format": RUN_FORMAT, "status": "done"}, data)
        >>> state = store.read_states()[("digits", "RS", 0)]
        >>> state.status, state.metadata["files"][RESULTS]["bytes"] == len(data)
        ('done', True)
    """

    benchmark: str
    method: str
    seed: int
    status: str
    metadata: dict | None = None
    path: str = ""
    problem: str | None = None


def _explain_storage_error(root: str, e: BaseException) -> str:
    name = type(e).__name__
    text = f"{name}: {e}"
    if "NoCredentials" in name or "Unable to locate credentials" in str(e):
        return (f"cannot access {root!r}: missing credential ({text}). Set AWS_ACCESS_KEY_ID and "
                f"AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for a non-AWS endpoint), or pass "
                f"storage options key=... secret=...")
    if isinstance(e, PermissionError) or "AccessDenied" in text or "InvalidAccessKeyId" in text \
            or "SignatureDoesNotMatch" in text:
        return f"cannot access {root!r}: permission denied or wrong credential ({text})"
    if "NoSuchBucket" in text or isinstance(e, FileNotFoundError):
        return f"cannot access {root!r}: the bucket or folder does not exist ({text})"
    if "Could not connect" in text or "ConnectError" in name or "EndpointConnectionError" in name \
            or isinstance(e, (ConnectionError, OSError)):
        return (f"cannot reach {root!r}: {text}. Check the URL and, for S3, AWS_ENDPOINT_URL / "
                f"the endpoint_url storage option")
    return f"cannot access {root!r}: {text}"


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class StudyStore:
    """One study's folder on any fsspec filesystem: paths, atomic run writes, run states.

    ``root`` is the folder holding studies; ``study`` the study name (a sub-folder).
    ``storage_options`` go to fsspec (e.g. ``{"endpoint_url": ..., "key": ..., "secret": ...}``).

    Example:
        >>> import tempfile
        >>> store = StudyStore(tempfile.mkdtemp(), "demo")
        >>> store.check_writable()
        >>> folder = store.write_run("digits", "RS", 0, {"format": RUN_FORMAT, "status": "failed"}, None)
        >>> folder == store.run_dir("digits", "RS", 0), list(store.read_states())
        (True, [('digits', 'RS', 0)])
    """

    def __init__(self, root: str, study: str, storage_options: Mapping[str, Any] | None = None):
        if not str(root).strip():
            raise errors.InputError("the study root is empty; give the folder or URL that holds studies "
                                    "(--root), e.g. ./results")
        self.root = str(root).rstrip("/") or "/"
        self.study = study
        self.storage_options = dict(storage_options or {})
        try:
            self.fs, root_path = fsspec.core.url_to_fs(self.root, **self.storage_options)
        except (ImportError, ValueError) as e:
            raise StorageError(f"cannot use root {self.root!r}: {e}") from None
        self.root_path = root_path.rstrip("/") if root_path != "/" else root_path
        self.local = isinstance(self.fs, LocalFileSystem)
        self.path = self._join(self.root_path, study)

    @classmethod
    def from_study_path(cls, path: str, storage_options: Mapping[str, Any] | None = None) -> "StudyStore":
        """The store of an existing study folder ``<root>/<study>``."""
        path = str(path).rstrip("/")
        if "://" not in path and path:
            path = os.path.abspath(os.path.expanduser(path))    # '.', '..', '~/results/demo'
        root, _, study = path.rpartition("/")
        if not study or study in (".", ".."):
            raise NotAStudyError(f"{path or str(path)!r} is not a study folder <root>/<study>")
        if not root and "://" not in path:
            root = "."
        return cls(root, study, storage_options)

    # ------------------------------------------------------------------ paths
    @staticmethod
    def _join(*parts: str) -> str:
        return "/".join([parts[0].rstrip("/")] + [p.strip("/") for p in parts[1:] if p])

    @property
    def url(self) -> str:
        """The study folder as a URL (with its protocol for remote stores)."""
        if self.local:
            return self.path
        proto = self.fs.protocol[0] if isinstance(self.fs.protocol, (tuple, list)) else self.fs.protocol
        return f"{proto}://{self.path}"

    def run_dir(self, benchmark: str, method: str, seed: int) -> str:
        return self._join(self.path, benchmark, method, str(seed))

    def _running_marker(self, benchmark: str, method: str, seed: int) -> str:
        return self._join(self.path, RUNNING, benchmark, method, f"{seed}.json")

    # ------------------------------------------------------------------ checks
    def check_writable(self) -> None:
        """Create the study folder and write/remove a probe file; ``StorageError`` says why not."""
        probe = self._join(self.path, f".probe-{uuid.uuid4().hex}")
        try:
            if not self.local:
                # object stores: never create a bucket by accident; listing it also checks credentials
                bucket = self.path.split("/", 1)[0]
                self.fs.invalidate_cache(bucket)
                self.fs.ls(bucket)
            self.fs.makedirs(self.path, exist_ok=True)
            self.fs.pipe_file(probe, b"ok")
            self.fs.rm_file(probe)
        except Exception as e:  # any backend error becomes one clear message
            raise StorageError(_explain_storage_error(self.root, e)) from e

    def check_readable(self) -> None:
        """The study folder exists, can be listed and holds a study (``study.yaml`` or runs).

        ``StorageError`` when storage cannot be reached; ``NotAStudyError`` (bad input) when
        the folder does not exist or holds no study, suggesting a nearby study folder."""
        try:
            exists = self.fs.isdir(self.path)
            is_study = exists and (self.fs.exists(self._join(self.path, SPEC)) or bool(self.metadata_paths()))
        except Exception as e:
            raise StorageError(_explain_storage_error(self.url, e)) from e
        if is_study:
            return
        what = "does not exist" if not exists else "is not a study folder (no study.yaml and no runs)"
        hint = self._suggest_study(exists)
        raise NotAStudyError(f"{self.url!r} {what}; a study folder is <root>/<study>, as written by "
                             f"'hposim study run SPEC --root <root>'.{hint}")

    def _is_study_dir(self, path: str) -> bool:
        return self.fs.exists(self._join(path, SPEC))

    def _display(self, path: str) -> str:
        return path if self.local else self.fs.unstrip_protocol(path)

    def _suggest_study(self, exists: bool) -> str:
        """`` Did you mean ...?`` naming nearby study folders: inside this folder (a root was given),
        an enclosing study (a run or benchmark folder was given), or a sibling with a close name."""
        import difflib

        found: list[str] = []
        with contextlib.suppress(Exception):
            if exists:
                found = [p for p in sorted(self.fs.ls(self.path, detail=False))
                         if self.fs.isdir(p) and self._is_study_dir(p)]
            if not found:
                parent = self.path
                for _ in range(4):
                    parent = parent.rsplit("/", 1)[0] if "/" in parent.strip("/") else ""
                    if not parent:
                        break
                    if self._is_study_dir(parent):
                        found = [parent]
                        break
            if not found and "/" in self.path.strip("/"):
                parent, name = self.path.rsplit("/", 1)
                siblings = {p.rsplit("/", 1)[-1]: p for p in self.fs.ls(parent, detail=False)
                            if self.fs.isdir(p) and self._is_study_dir(p)}
                found = [siblings[n] for n in difflib.get_close_matches(name, list(siblings), n=3)]
        if not found:
            return ""
        return " Did you mean " + " or ".join(repr(self._display(p)) for p in found[:3]) + "?"

    # ------------------------------------------------------------------ spec
    def write_spec(self, yaml_text: str) -> None:
        self._write_bytes(self._join(self.path, SPEC), yaml_text.encode())

    def read_spec(self) -> str | None:
        p = self._join(self.path, SPEC)
        try:
            return self.fs.cat_file(p).decode()
        except FileNotFoundError:
            return None

    # ------------------------------------------------------------------ writing runs
    def _write_bytes(self, path: str, data: bytes) -> None:
        if self.local:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_bytes_atomic(path, data)
        else:
            self.fs.pipe_file(path, data)

    def claim(self, benchmark: str, method: str, seed: int) -> "RunClaim | None":
        """Claim one run for this process; None when another live process holds its claim.

        Release the claim (``RunClaim.release``) once the run is written. Locally the claim is
        atomic and dies with its process; see the module docstring for object stores."""
        path = self._running_marker(benchmark, method, seed)
        info = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}
        if self.local:
            try:
                return _claim_local(path, info)
            except _NoLocks:       # a filesystem without flock (some network mounts): best effort below
                pass
        holder = self._remote_holder(path)
        if holder is not None:
            return None
        token = uuid.uuid4().hex
        self.fs.pipe_file(path, json.dumps({**info, "token": token}).encode())
        with contextlib.suppress(Exception):        # read back: the last of two writers wins
            if json.loads(self.fs.cat_file(path)).get("token") != token:
                return None
        return RunClaim(path, self, None)

    def claim_holder(self, benchmark: str, method: str, seed: int) -> dict | None:
        """The marker of whoever holds the run's claim now (host, pid, started), or None."""
        path = self._running_marker(benchmark, method, seed)
        if not self.local:
            return self._remote_holder(path)
        try:
            with open(path) as f:
                info = json.loads(f.read() or "{}")
        except (OSError, ValueError):
            return None
        return info if info.get("host") != socket.gethostname() or _pid_alive(int(info.get("pid", -1))) else None

    def _remote_holder(self, path: str) -> dict | None:
        try:
            info = json.loads(self.fs.cat_file(path))
        except Exception:  # no claim (or an unreadable one, which nobody can hold)
            return None
        if info.get("host") == socket.gethostname():
            return info if _pid_alive(int(info.get("pid", -1))) else None
        return info if time.time() - float(info.get("started", 0)) < REMOTE_CLAIM_SECONDS else None

    def mark_running(self, benchmark: str, method: str, seed: int) -> None:
        """Write a running marker without claiming (kept for callers that only inform)."""
        info = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}
        try:
            self._write_bytes(self._running_marker(benchmark, method, seed), json.dumps(info).encode())
        except Exception as e:  # a marker is informative only
            warnings.warn(f"could not write running marker for {benchmark}/{method}/{seed}: {e}", stacklevel=2)

    def clear_running(self, benchmark: str, method: str, seed: int) -> None:
        with contextlib.suppress(Exception):
            self.fs.rm_file(self._running_marker(benchmark, method, seed))

    def read_state(self, benchmark: str, method: str, seed: int) -> RunState | None:
        """The state of one run as stored now, its results hashed (None: nothing stored)."""
        run_dir = self.run_dir(benchmark, method, seed)
        try:
            raw = self.fs.cat_file(self._join(run_dir, METADATA))
        except FileNotFoundError:
            return None
        meta = _parse_metadata(raw)
        if meta is None:
            return RunState(benchmark, method, seed, "corrupt", None, run_dir, f"{METADATA} cannot be parsed")
        if meta.get("status") != "done":
            return RunState(benchmark, method, seed, str(meta.get("status")), meta, run_dir)
        try:
            data: Any = self.fs.cat_file(self._join(run_dir, RESULTS))
        except FileNotFoundError as e:
            data = e
        problem = results_problem(meta, data)
        return RunState(benchmark, method, seed, "corrupt" if problem else "done", meta, run_dir, problem)

    def write_run(self, benchmark: str, method: str, seed: int, metadata: dict,
                  results: bytes | None) -> str:
        """Write one run so that it becomes visible only once complete; returns its folder.

        ``metadata`` gets ``files`` (size and sha256 of ``results.parquet``) added. A previous
        (failed) run in the same place is replaced.
        """
        final = self.run_dir(benchmark, method, seed)
        metadata = dict(metadata)
        files = {}
        if results is not None:
            files[RESULTS] = {"bytes": len(results), "sha256": hashlib.sha256(results).hexdigest()}
        metadata["files"] = files
        meta_bytes = json.dumps(metadata, indent=1, default=_json_default).encode()
        if self.local:
            parent = os.path.dirname(final)
            os.makedirs(parent, exist_ok=True)
            tag = f"{seed}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            tmp = os.path.join(parent, f".tmp-{tag}")
            os.makedirs(tmp)
            for name, data in ((RESULTS, results), (METADATA, meta_bytes)):
                if data is None:
                    continue
                with open(os.path.join(tmp, name), "wb") as f:
                    f.write(data)
            if os.path.exists(final):
                old = os.path.join(parent, f".old-{tag}")
                os.rename(final, old)
                os.rename(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(tmp, final)
        else:
            marker = self._join(final, METADATA)
            backup = None
            if self.fs.exists(marker):
                backup = self._backup_run(benchmark, method, seed)
                self.fs.rm_file(marker)
            if self.fs.exists(self._join(final, RESULTS)) and results is None:
                self.fs.rm_file(self._join(final, RESULTS))
            if results is not None:
                self.fs.pipe_file(self._join(final, RESULTS), results)
            self.fs.pipe_file(marker, meta_bytes)
            if backup is not None:
                self.fs.rm(backup, recursive=True)
        return final

    def _backup_path(self, benchmark: str, method: str, seed: int) -> str:
        return self._join(self.path, REPLACED, benchmark, method, str(seed))

    def _backup_run(self, benchmark: str, method: str, seed: int) -> str:
        """Copy a stored run (object stores) to ``_replaced/`` before it is replaced; the metadata last."""
        final, backup = self.run_dir(benchmark, method, seed), self._backup_path(benchmark, method, seed)
        for name in (RESULTS, METADATA):
            if self.fs.exists(self._join(final, name)):
                self.fs.copy(self._join(final, name), self._join(backup, name))
        return backup

    def _restore_replaced(self) -> list[str]:
        """Object stores: put back runs whose replacement was interrupted (their backup in
        ``_replaced/`` is complete and the run has no metadata now); drop the other backups."""
        try:
            paths = self.fs.glob(self._join(self.path, REPLACED, "*", "*", "*", METADATA))
        except FileNotFoundError:
            return []
        restored = []
        for p in paths:
            backup = p.rsplit("/", 1)[0]
            bench, method, seed_s = backup.split("/")[-3:]
            if not seed_s.isdigit() or self.claim_holder(bench, method, int(seed_s)) is not None:
                continue              # being written now
            final = self.run_dir(bench, method, int(seed_s))
            if not self.fs.exists(self._join(final, METADATA)):
                if self.fs.exists(self._join(backup, RESULTS)):
                    self.fs.copy(self._join(backup, RESULTS), self._join(final, RESULTS))
                self.fs.copy(p, self._join(final, METADATA))
                restored.append(final)
            self.fs.rm(backup, recursive=True)
        return restored

    def cleanup_temporaries(self) -> list[str]:
        """Remove temporary folders left by killed writers on this host (local stores only).

        A writer killed while replacing a run (between moving the old folder aside and moving
        the new one in) leaves the old run in ``.old-<seed>-...`` and no ``<seed>``: the old run
        is moved back rather than removed, so a replacement never loses the run it replaces (on
        object stores, from the copy in ``_replaced/`` made before the replacement started)."""
        removed: list[str] = []
        if not self.local:
            return self._restore_replaced()
        if not os.path.isdir(self.path):
            return removed
        host = socket.gethostname()
        for dirpath, dirnames, _ in os.walk(self.path):
            for d in list(dirnames):
                if d.startswith((".tmp-", ".old-")):
                    parts = d.split("-")
                    pid = _parse_pid(parts)
                    dirnames.remove(d)
                    if host in d and pid is not None and _pid_alive(pid) and pid != os.getpid():
                        continue
                    final = os.path.join(dirpath, d[len(".old-"):].split("-", 1)[0])
                    if d.startswith(".old-") and not os.path.exists(final):
                        with contextlib.suppress(OSError):    # (if it cannot be moved back, it stays)
                            os.rename(os.path.join(dirpath, d), final)
                        continue
                    shutil.rmtree(os.path.join(dirpath, d), ignore_errors=True)
                    removed.append(os.path.join(dirpath, d))
            if dirpath.count(os.sep) - self.path.count(os.sep) >= 2:
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        return removed

    # ------------------------------------------------------------------ reading runs
    def refresh(self) -> None:
        """Forget cached listings (object-store filesystems cache directory listings)."""
        try:
            self.fs.invalidate_cache(self.path)
        except Exception:
            pass

    def metadata_paths(self) -> list[str]:
        """Every ``<benchmark>/<method>/<seed>/metadata.json`` in the study folder."""
        self.refresh()
        try:
            paths = self.fs.glob(self._join(self.path, "*", "*", "*", METADATA))
        except FileNotFoundError:
            return []
        out = []
        for p in paths:
            rel = p.split("/")[-4:]
            if rel[0].startswith(("_", ".")) or rel[1].startswith(".") or rel[2].startswith("."):
                continue
            out.append(p)
        return sorted(out)

    def read_states(self, warn: bool = True, verify: bool = False) -> dict[tuple[str, str, int], RunState]:
        """The stored state of every run found, keyed (benchmark, method, seed).

        A run whose ``metadata.json`` cannot be parsed, or whose results file is missing or
        has the wrong size, or (``verify=True``: every done run's file is read and hashed) the
        wrong sha256, is returned as ``corrupt`` with a warning naming the file. Metadata that
        is not an hposim run's (foreign files) is skipped with a warning.
        """
        paths = self.metadata_paths()
        if not paths:
            return {}
        contents = self.fs.cat(paths, on_error="return")
        sizes = self._results_sizes([p.rsplit("/", 1)[0] for p in paths])
        states: dict[tuple[str, str, int], RunState] = {}
        for p in paths:
            run_dir = p.rsplit("/", 1)[0]
            bench, method, seed_s = run_dir.split("/")[-3:]
            try:
                seed = int(seed_s)
            except ValueError:
                if warn:
                    warnings.warn(f"skipping {p}: seed folder {seed_s!r} is not an integer", stacklevel=2)
                continue
            raw = contents.get(p)
            meta = _parse_metadata(raw)
            problem = None
            status = None
            if meta is None:
                if _is_foreign(raw):
                    if warn:
                        warnings.warn(f"skipping {p}: not an hposim run metadata file (foreign)", stacklevel=2)
                    continue
                problem = f"{METADATA} cannot be read or parsed (corrupt)"
            else:
                status = meta.get("status")
                if status == "done":
                    want = meta.get("files", {}).get(RESULTS, {}).get("bytes")
                    have = sizes.get(run_dir)
                    if want is None or have != want:
                        problem = (f"{RESULTS} is missing or truncated ({have} bytes, {METADATA} records "
                                   f"{want})")
                elif status != "failed":
                    if warn:
                        warnings.warn(f"skipping {p}: unknown run status {status!r}", stacklevel=2)
                    continue
            states[(bench, method, seed)] = RunState(bench, method, seed, "corrupt" if problem else status,
                                                     meta, run_dir, problem)
        if verify:
            self._verify_checksums([st for st in states.values() if st.status == "done"])
        if warn:
            for st in states.values():
                if st.status == "corrupt":
                    warnings.warn(f"{self._display(st.path)} is corrupt: {st.problem}; it is left out of "
                                  f"analyses and recomputed by the next 'hposim study run'", stacklevel=2)
        return states

    def _verify_checksums(self, done: list[RunState], chunk: int = 64) -> None:
        """Hash every done run's results file; mark a mismatch ``corrupt`` (reads ``chunk`` files at a time)."""
        for i in range(0, len(done), chunk):
            part = done[i:i + chunk]
            data = self.fs.cat([self._join(st.path, RESULTS) for st in part], on_error="return")
            for st in part:
                blob = data.get(self._join(st.path, RESULTS))
                problem = results_problem(st.metadata or {}, blob)
                if problem:
                    st.status, st.problem = "corrupt", problem

    def _results_sizes(self, run_dirs: Iterable[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        try:
            found = self.fs.glob(self._join(self.path, "*", "*", "*", RESULTS), detail=True)
        except FileNotFoundError:
            return out
        for p, info in found.items():
            out[p.rsplit("/", 1)[0]] = int(info.get("size") or 0)
        return out

    def running(self) -> dict[tuple[str, str, int], dict]:
        """Running markers keyed (benchmark, method, seed); markers of dead local processes are left out."""
        self.refresh()
        try:
            paths = self.fs.glob(self._join(self.path, RUNNING, "*", "*", "*.json"))
        except FileNotFoundError:
            return {}
        if not paths:
            return {}
        contents = self.fs.cat(paths, on_error="return")
        host = socket.gethostname()
        out = {}
        for p in paths:
            bench, method, name = p.split("/")[-3:]
            try:
                info = json.loads(contents[p])
                seed = int(name[:-5])
            except Exception:
                continue
            if info.get("host") == host and not _pid_alive(int(info.get("pid", -1))):
                continue
            if info.get("host") != host and self.local and not _locked(p):
                continue            # another host's claim on a shared disk, no longer held
            out[(bench, method, seed)] = info
        return out

    def read_results_bytes(self, run_dir: str) -> bytes:
        return self.fs.cat_file(self._join(run_dir, RESULTS))

    def open_results(self, run_dir: str):
        return self.fs.open(self._join(run_dir, RESULTS), "rb")


def open_store(root: str, study: str | None = None,
               storage_options: Mapping[str, Any] | None = None) -> StudyStore:
    """A store for ``root``+``study``, or for a study folder when ``study`` is None."""
    if study is None:
        return StudyStore.from_study_path(root, storage_options)
    return StudyStore(root, study, storage_options)


@dataclass
class RunClaim:
    """A held claim on one run (``StudyStore.claim``); ``release()`` once the run is written.

    Example:
        >>> import tempfile
        >>> store = StudyStore(tempfile.mkdtemp(), "demo")
        >>> claim = store.claim("digits", "RS", 0)
        >>> store.claim("digits", "RS", 0) is None       # held (here: by this very process)
        True
        >>> claim.release(); store.claim("digits", "RS", 0) is not None
        True
    """

    path: str
    store: "StudyStore"
    fd: int | None

    def release(self) -> None:
        if self.fd is None:        # object store: remove the marker
            with contextlib.suppress(Exception):
                self.store.fs.rm_file(self.path)
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)   # unlink while locked: a waiter that opened it retries on a fresh file
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = -1


def _locked(path: str) -> bool:
    """Whether some process holds the ``flock`` of a local claim file."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return True                # cannot tell: count it as held
    finally:
        os.close(fd)               # closing releases a lock we took
    return False


class _NoLocks(Exception):
    """The filesystem (or platform) offers no ``flock``."""


def _claim_local(path: str, info: dict) -> RunClaim | None:
    """Open-or-create ``path`` and ``flock`` it without blocking; write ``info`` into it."""
    try:
        import fcntl
    except ImportError:            # not a POSIX platform
        raise _NoLocks() from None

    os.makedirs(os.path.dirname(path), exist_ok=True)
    for _ in range(100):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError:            # ENOLCK, EOPNOTSUPP: locks unsupported here
            os.close(fd)
            raise _NoLocks() from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:               # the holder released (unlinked) it between our open and lock
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode())
        return RunClaim(path, None, fd)  # type: ignore[arg-type]
    raise StorageError(f"cannot claim {path}: it keeps being replaced")


def _parse_pid(parts: list[str]) -> int | None:
    for p in reversed(parts[:-1]):
        if p.isdigit():
            return int(p)
    return None


def results_problem(metadata: Mapping[str, Any], data: Any) -> str | None:
    """What is wrong with ``data`` as the results file recorded in ``metadata`` (None: nothing).

    Example:
        >>> meta = {"files": {RESULTS: {"bytes": 2, "sha256": hashlib.sha256(b"ok").hexdigest()}}}
        >>> results_problem(meta, b"ok") is None, results_problem(meta, b"ko")[:36]
        (True, 'results.parquet does not match its s')
    """
    if not isinstance(data, (bytes, bytearray)):
        return f"{RESULTS} cannot be read ({type(data).__name__}: {data})"
    rec = (metadata.get("files") or {}).get(RESULTS) or {}
    if rec.get("bytes") is not None and rec["bytes"] != len(data):
        return f"{RESULTS} is missing or truncated ({len(data)} bytes, {METADATA} records {rec['bytes']})"
    want = rec.get("sha256")
    if want is not None:
        have = hashlib.sha256(data).hexdigest()
        if have != want:
            return (f"{RESULTS} does not match its sha256 recorded in {METADATA} (bit rot or an edit: "
                    f"{have[:12]}... instead of {want[:12]}...)")
    return None


_NOT_JSON = object()


def _json_or_not(raw: Any) -> Any:
    """``raw`` (text or bytes) parsed as JSON, or ``_NOT_JSON``."""
    if not isinstance(raw, (bytes, str)):
        return _NOT_JSON
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _is_foreign(raw: Any) -> bool:
    """Valid JSON that is not an hposim run's metadata (another tool's file)."""
    meta = _json_or_not(raw)
    return meta is not _NOT_JSON and not (isinstance(meta, dict) and meta.get("format") == RUN_FORMAT)


def _parse_metadata(raw: Any) -> dict | None:
    meta = _json_or_not(raw)
    if not isinstance(meta, dict) or meta.get("format") != RUN_FORMAT:
        return None
    return meta


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)
