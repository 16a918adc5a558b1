"""Where blackboxes live on disk, and the names that may become folders there.

``$HPOSIM_HOME`` (default ``~/.cache/hposim``) holds ``blackboxes/<name>/<task>/`` (cached
blackboxes) and ``cache/<name>/<task>/`` (the derived caches of read-only blackboxes); embedded
blackboxes live in the package (``embedded_root()``). Storage and the repository both use these,
so they live below both (docs/architecture.md#the-repository-on-disk).

Example:
    >>> import os
    >>> os.environ["HPOSIM_HOME"] = "/tmp/hposim-home"
    >>> str(blackbox_folder("nasbench201", "cifar10"))
    '/tmp/hposim-home/blackboxes/nasbench201/cifar10'
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from blackbox_repo.blackbox import BlackboxError

__all__ = ["validate_name", "hposim_home", "blackboxes_root", "cache_root", "default_cache_dir", "embedded_root",
           "blackbox_folder"]


def validate_name(value: Any, what: str = "name") -> str:
    """Check that a blackbox or task name is a safe single path component.

    Example:
        >>> validate_name("ImageNet16-120", "task")
        'ImageNet16-120'
    """
    if not isinstance(value, str) or not value.strip():
        raise BlackboxError(f"{what} {value!r} is not valid: it must be a non-empty string")
    bad = [c for c in ("/", "\\", "\x00") if c in value]
    if bad or any(ord(c) < 32 for c in value):
        raise BlackboxError(f"{what} {value!r} is not valid: it must not contain '/', '\\' or "
                            f"control characters")
    if value.startswith(".") or value != value.strip():
        raise BlackboxError(f"{what} {value!r} is not valid: it must not start with '.' nor "
                            f"start or end with whitespace")
    if value.endswith(".lock"):
        raise BlackboxError(f"{what} {value!r} is not valid: names ending in '.lock' are reserved "
                            f"for lock files")
    return value


def hposim_home() -> Path:
    """``$HPOSIM_HOME``, default ``~/.cache/hposim`` (read on every call)."""
    env = os.environ.get("HPOSIM_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "hposim"


def blackboxes_root() -> Path:
    """Where cached blackboxes live: ``hposim_home() / "blackboxes"``."""
    return hposim_home() / "blackboxes"


def cache_root() -> Path:
    """Where caches of read-only blackboxes live: ``hposim_home() / "cache"``."""
    return hposim_home() / "cache"


def default_cache_dir(name: str, task: str) -> Path:
    """Cache folder of a read-only blackbox task: ``$HPOSIM_HOME/cache/<name>/<task>``."""
    return cache_root() / validate_name(name, "blackbox name") / validate_name(task, "task name")


def embedded_root() -> Path:
    """The package folder holding embedded blackboxes."""
    return Path(__file__).resolve().parent / "embedded"


def blackbox_folder(name: str, task: str) -> Path:
    """Folder of a cached blackbox task: ``$HPOSIM_HOME/blackboxes/<name>/<task>``."""
    return blackboxes_root() / validate_name(name, "blackbox name") / validate_name(task, "task name")
