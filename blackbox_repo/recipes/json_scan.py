"""Reading very large JSON documents one member at a time.

Raw releases such as LCBench's ``data_2k_lw.json`` or HPO-B's ``meta-train-dataset.json`` are
single JSON objects of several GB; ``json.load`` would need many times that in memory.
:func:`iter_members` scans the bytes (typically a memory map of the file) with a regular
expression that only stops at strings and braces, and yields the raw bytes of every object
found at a given nesting depth together with the keys leading to it, so each piece is decoded
with ``json.loads`` on its own.

Example:
    >>> doc = b'{"a": {"x": {"v": [1, 2]}}, "b": {"y": {"v": []}}}'
    >>> [(keys, json.loads(v)) for keys, v in iter_members(doc, depth=2)]
    [(('a', 'x'), {'v': [1, 2]}), (('b', 'y'), {'v': []})]
"""
from __future__ import annotations

import json
import mmap
import re
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from blackbox_repo.recipes.base import RecipeError

__all__ = ["iter_members", "mapped_zip_member"]

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}]')


def iter_members(buf, *, depth: int = 1, what: str = "JSON document") -> Iterator[tuple[tuple[str, ...], bytes]]:
    """Yield ``(keys, raw bytes)`` for every object value at nesting ``depth`` (1 = the values of
    the top-level object's members). Values that are not objects are skipped."""
    start = re.match(rb"\s*{", buf[:64])
    if start is None:
        raise RecipeError(f"{what} does not start with a JSON object")
    level = 0
    keys: list[str | None] = [None] * (depth + 1)
    path: list[str] = []
    begin = 0
    for m in _TOKEN.finditer(buf):
        tok = m.group()
        c = tok[:1]
        if c == b'"':
            if level <= depth:
                keys[level] = tok
        elif c == b"{":
            level += 1
            if 2 <= level <= depth + 1:
                k = keys[level - 1]
                path.append(json.loads(k) if k is not None else "")
            if level == depth + 1:
                begin = m.start()
        else:
            if level == depth + 1:
                yield tuple(path), buf[begin:m.end()]
            if 2 <= level <= depth + 1:
                path.pop()
                keys[level - 1] = None
            level -= 1
            if level < 0:
                raise RecipeError(f"{what} has an unbalanced '}}' at byte {m.start()}")
    if level != 0:
        raise RecipeError(f"{what} ends inside an object (truncated?)")


@contextmanager
def mapped_zip_member(archive: Path, member_suffix: str, out_dir: Path):
    """Extract the zip member ending in ``member_suffix`` to ``out_dir`` (once) and yield a
    read-only memory map of it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zf:
        infos = [i for i in zf.infolist() if i.filename.endswith(member_suffix) and not i.is_dir()]
        if not infos:
            raise RecipeError(f"{archive} has no member ending in {member_suffix!r}; members: "
                              f"{zf.namelist()[:10]}")
        info = infos[0]
        target = out_dir / info.filename.rsplit("/", 1)[-1]
        if not (target.is_file() and target.stat().st_size == info.file_size):
            tmp = target.with_name(target.name + ".part")
            with zf.open(info) as src, open(tmp, "wb") as dst:
                for block in iter(lambda: src.read(1 << 22), b""):
                    dst.write(block)
            tmp.replace(target)
    with open(target, "rb") as fh:
        if target.stat().st_size == 0:
            raise RecipeError(f"{archive}:{info.filename} is empty")
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield mm
        finally:
            mm.close()
