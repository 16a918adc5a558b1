"""Every docstring example in the four packages runs and prints what it shows.

Examples marked ``+SKIP`` (downloads, clusters) are exercised by the tests of their module.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil
import tempfile

import pytest

PACKAGES = ("blackbox_repo", "simulator", "methods", "studies")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        names.append(package)
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, prefix=package + ".")]
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))    # examples' temp folders go here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see output)"


def test_the_public_classes_have_examples():
    """Public classes (exceptions and warnings aside) show how they are used."""
    missing = []
    for name in _modules():
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr, None)
            if (isinstance(obj, type) and obj.__module__ == name and not issubclass(obj, BaseException)
                    and ">>>" not in (obj.__doc__ or "")):
                missing.append(f"{name}.{attr}")
    assert not missing, f"public classes without a docstring example: {missing}"
