"""Mirror on S3 (a real moto_server on 127.0.0.1, through s3fs) and on a local fsspec folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from loopback import LoopbackServer
from toy_recipe import make_toy_recipe, toy_csv

from blackbox_repo.download import OfflineError
from blackbox_repo.mirror import Mirror, MirrorError, open_mirror
from blackbox_repo.recipes import RECIPES
from blackbox_repo.storage import verify_folder

s3fs = pytest.importorskip("s3fs")


@pytest.fixture
def s3_mirror(moto_endpoint, monkeypatch, request):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": moto_endpoint})
    bucket = f"mirror-{request.node.name.replace('_', '-')[:40].lower()}"
    fs.mkdir(bucket)
    return f"s3://{bucket}/blackboxes", fs


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def toy(server, tmp_path, monkeypatch):
    data = toy_csv()
    url = server.add("toy/toy.csv", data)
    recipe = make_toy_recipe(url, data, counter=tmp_path / "conversions.txt")
    monkeypatch.setitem(RECIPES, recipe.name, recipe)
    return recipe


def _conversions(tmp_path) -> int:
    p = tmp_path / "conversions.txt"
    return len(p.read_text().splitlines()) if p.exists() else 0


def _fresh_home(tmp_path, monkeypatch, label: str) -> Path:
    home = tmp_path / label
    home.mkdir()
    monkeypatch.setenv("HPOSIM_HOME", str(home))
    return home


def test_upload_after_conversion_then_load_from_mirror(toy, server, s3_mirror, tmp_path, monkeypatch):
    url, fs = s3_mirror
    monkeypatch.setenv("HPOSIM_MIRROR", url)
    first = toy.get(progress=False)
    assert _conversions(tmp_path) == 1
    root = url[len("s3://"):]
    assert fs.exists(f"{root}/toy-recipe/recipe.json")
    assert sorted(fs.ls(f"{root}/toy-recipe/alpha", detail=False)) == sorted(
        f"{root}/toy-recipe/alpha/{f}" for f in ("hyperparameters.parquet", "metadata.json", "objectives.parquet"))
    # another machine: empty cache, source unreachable -> served by the mirror, no conversion
    _fresh_home(tmp_path, monkeypatch, "machine-b")
    server.files.clear()
    n = len(server.requests)
    second = toy.get(progress=False)
    assert _conversions(tmp_path) == 1 and len(server.requests) == n
    assert (second["beta"].objectives == first["beta"].objectives).all()
    assert "mirror" in toy.marker()["origin"]
    assert verify_folder(toy.family_folder() / "beta") == []


def test_explicit_mirror_argument_and_offline_mode(toy, s3_mirror, tmp_path, monkeypatch):
    url, _ = s3_mirror
    toy.get(mirror=url, progress=False)
    _fresh_home(tmp_path, monkeypatch, "machine-b")
    monkeypatch.setenv("HPOSIM_OFFLINE", "1")          # an S3 mirror is network: not used
    with pytest.raises(OfflineError, match="toy.csv"):
        toy.get(mirror=url)
    monkeypatch.delenv("HPOSIM_OFFLINE")
    assert sorted(toy.get(mirror=url)) == ["alpha", "beta"]
    assert _conversions(tmp_path) == 1


def test_offline_mode_uses_a_local_folder_mirror(toy, tmp_path, monkeypatch):
    mirror = f"file://{tmp_path / 'nfs-mirror'}"
    toy.get(mirror=mirror, progress=False)
    _fresh_home(tmp_path, monkeypatch, "machine-b")
    monkeypatch.setenv("HPOSIM_OFFLINE", "1")
    assert sorted(toy.get(mirror=mirror)) == ["alpha", "beta"]
    assert _conversions(tmp_path) == 1


def test_corrupt_mirror_copy_is_rejected_and_converted_instead(toy, s3_mirror, tmp_path, monkeypatch):
    url, fs = s3_mirror
    toy.get(mirror=url, progress=False)
    root = url[len("s3://"):]
    fs.pipe(f"{root}/toy-recipe/alpha/objectives.parquet", b"not parquet at all")
    _fresh_home(tmp_path, monkeypatch, "machine-b")
    with pytest.warns(UserWarning, match=r"alpha/objectives.parquet has sha256 .* expected"):
        d = toy.get(mirror=url, progress=False)
    assert _conversions(tmp_path) == 2 and d["alpha"].shape == (5, 1, 3, 2)
    assert toy.marker()["origin"] == "recipe"


def test_local_folder_mirror_roundtrip(toy, tmp_path, monkeypatch):
    mirror_dir = tmp_path / "shared-mirror"
    m = open_mirror(f"file://{mirror_dir}")
    assert not m.has("toy-recipe")
    toy.get(mirror=f"file://{mirror_dir}", progress=False)
    assert m.has("toy-recipe") and m.marker("toy-recipe")["tasks"] == ["alpha", "beta"]
    dest = tmp_path / "copy"
    assert m.download("toy-recipe", dest) == ["alpha", "beta"]
    assert verify_folder(dest / "alpha") == []


def test_mirror_errors_name_the_url(tmp_path):
    with pytest.raises(MirrorError, match="not-a-protocol"):
        Mirror("not-a-protocol://bucket/x")
    m = Mirror(str(tmp_path / "empty"))
    with pytest.raises(MirrorError, match=r"reading nothing/recipe.json"):
        m.marker("nothing")
    assert open_mirror(None) is None and os.environ.get("HPOSIM_MIRROR") is None


def test_edited_mirror_metadata_is_rejected_even_under_a_cache_folder(toy, tmp_path, monkeypatch):
    # the mirror's verification dropped every problem whose text contained "cache": with the
    # default home ~/.cache/hposim that was all of them, so an edited metadata.json passed
    import json
    mirror_dir = tmp_path / ".cache" / "shared-mirror"
    toy.get(mirror=f"file://{mirror_dir}", progress=False)
    meta_path = mirror_dir / "toy-recipe" / "alpha" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["mode"] = "max"                                   # the checksums of the data files still match
    meta_path.write_text(json.dumps(meta))
    home = tmp_path / ".cache" / "hposim"
    home.mkdir(parents=True)
    monkeypatch.setenv("HPOSIM_HOME", str(home))
    with pytest.warns(UserWarning, match=r"alpha failed verification: .*metadata.json is corrupt"):
        d = toy.get(mirror=f"file://{mirror_dir}", progress=False)
    assert d["alpha"].mode == "min" and toy.marker()["origin"] == "recipe"
