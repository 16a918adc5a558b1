"""The filesystem primitives: atomic writes, signed JSON, JSON-safe values, staging and swap-in."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from blackbox_repo.fs import (atomic_file, canonical_json, hold_lock, json_safe, remove_leftovers, sign, signature,
                              staging_folder, swap_in, umask, write_bytes_atomic, write_json_atomic,
                              write_signed_json)


def test_a_failed_atomic_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    tmp_path = tmp_path / "files"          # (tmp_path itself holds the test's HPOSIM_HOME)
    tmp_path.mkdir()
    path = tmp_path / "doc.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(RuntimeError, match="crash"):
        with atomic_file(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert json.loads(path.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.json"]
    write_bytes_atomic(path, b"new", fsync=True)
    assert path.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["doc.json"]


def test_a_signed_document_detects_any_change_and_ignores_key_order(tmp_path):
    path = tmp_path / "signed.json"
    write_signed_json(path, {"b": [1, 2.5], "a": {"x": "y"}}, "doc_sha256")
    doc = json.loads(path.read_text())
    assert list(doc) == ["b", "a", "doc_sha256"]                 # the document's order, checksum last
    assert signature(doc, "doc_sha256") == doc["doc_sha256"]
    reordered = {k: doc[k] for k in ("doc_sha256", "a", "b")}
    assert signature(reordered, "doc_sha256") == doc["doc_sha256"]
    doc["b"][1] = 2.25
    assert signature(doc, "doc_sha256") != doc["doc_sha256"]
    # non-string keys are hashed as they read back
    assert canonical_json({1: "a"}) == canonical_json({"1": "a"}) == '{"1":"a"}'
    assert sign({"k": 1}, "s") == {"k": 1, "s": signature({"k": 1}, "s")}


def test_json_safe_values():
    value = {"n": np.float32(0.5), "i": np.int64(3), "a": np.arange(2), "t": (1, math.inf), "x": math.nan,
             1: object.__new__(type("Thing", (), {"__repr__": lambda self: "Thing()"}))}
    assert json_safe(value) == {"n": 0.5, "i": 3, "a": [0, 1], "t": [1, None], "x": None, "1": "Thing()"}
    assert json_safe([-math.inf, math.inf], infinity="string") == ["-inf", "inf"]
    json.dumps(json_safe(value), allow_nan=False)


def test_staging_folder_swapped_in_replaces_the_folder_and_leftovers_are_cleaned(tmp_path):
    tmp_path = tmp_path / "root"
    folder = tmp_path / "family"
    folder.mkdir(parents=True)
    (folder / "old.txt").write_text("old")
    with hold_lock(folder):
        staging = staging_folder(folder)
        assert staging.name.startswith(".family.tmp-")
        assert staging.stat().st_mode & 0o777 == 0o777 & ~umask()
        (staging / "new.txt").write_text("new")
        swap_in(staging, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["new.txt"]
    # a crashed writer's staging folder, and a folder swapped out but never replaced
    crashed = staging_folder(folder)
    os.rename(folder, tmp_path / ".family.old-12345678")
    remove_leftovers(folder)
    assert not crashed.exists() and (folder / "new.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["family", "family.lock"]
