"""The import contract between the packages (the layering rules).

``LAYERS`` is the rule table, keyed by a path in the repository: a folder (``"methods/"``,
every file under it) or one file. Its keys:

- ``may_import``: the only modules the files may import, besides the standard library
  (a name allows its submodules: ``"numpy"`` allows ``numpy.linalg``);
- ``may_import_in_functions``: more modules allowed inside a function body only (optional
  adapters, imported when used);
- ``must_not_import``: modules the files never import (with their submodules);
- ``import_loads_of_the_project``, ``import_never_loads``: checked at run time in a fresh
  interpreter: importing the module (``"methods/"`` -> ``import methods``) leaves no module of
  the project in ``sys.modules`` but these (and the module's own), and none of those packages.

Every rule whose path matches a file applies (``blackbox_repo/configspace.py`` follows both
its own entry and ``"blackbox_repo/"``); the allowed imports of the matching entries add up. The static check reads ``import`` statements
(relative ones resolved); imports by name at run time (``importlib.import_module``) are
covered by the run-time rule only.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = ("blackbox_repo", "methods", "simulator", "studies")

LAYERS: dict[str, dict[str, tuple[str, ...]]] = {
    "methods/": {
        "may_import": ("numpy", "scipy", "methods", "blackbox_repo.configspace",
                       "blackbox_repo.errors"),
        "may_import_in_functions": ("optuna", "syne_tune"),
        "import_loads_of_the_project": ("blackbox_repo", "blackbox_repo.configspace",
                                        "blackbox_repo.errors"),
        "import_never_loads": ("pandas", "pyarrow", "sklearn", "optuna", "syne_tune"),
    },
    # the public conformance suite drives the real simulator on a synthetic table; it is test
    # support, never imported by ``import methods``
    "methods/testing.py": {
        "may_import_in_functions": ("pytest", "pandas", "simulator", "blackbox_repo.blackbox"),
    },
    "blackbox_repo/": {
        "must_not_import": ("methods", "simulator", "studies"),
    },
    "blackbox_repo/configspace.py": {
        "must_not_import": ("methods", "simulator", "studies"),
        "may_import": ("numpy", "blackbox_repo.errors"),
        "import_loads_of_the_project": ("blackbox_repo", "blackbox_repo.errors"),
        "import_never_loads": ("pandas", "pyarrow", "sklearn"),
    },
    # the error model is the leaf every layer may import
    "blackbox_repo/errors.py": {
        "may_import": (),
    },
    "simulator/": {
        "must_not_import": ("studies",),
    },
}

ROOT = Path(__file__).resolve().parent.parent
STDLIB = frozenset(sys.stdlib_module_names)


def _covers(names: tuple[str, ...], module: str) -> bool:
    """``module`` is one of ``names`` or a submodule of one."""
    return any(module == n or module.startswith(n + ".") for n in names)


def _module_of(path: Path) -> str:
    """``blackbox_repo/recipes/__init__.py`` -> ``blackbox_repo.recipes``."""
    parts = list(path.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _rules_for(rel: str) -> list[dict[str, tuple[str, ...]]]:
    return [rule for key, rule in LAYERS.items() if rel == key or (key.endswith("/") and rel.startswith(key))]


def imports(source: str, module: str, is_package: bool) -> list[tuple[int, str, bool]]:
    """``(line, imported name, inside a function)`` of every import statement; ``from a import
    b`` gives ``a.b`` (``b`` may be a submodule or any name of ``a``)."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[:len(package.split(".")) - (child.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                found.extend((child.lineno, f"{base}.{alias.name}" if alias.name != "*" else base, in_function)
                             for alias in child.names)
            visit(child, inner)

    visit(ast.parse(source), False)
    return found


def violations(rel: str, source: str) -> list[str]:
    """Breaches of ``LAYERS`` by the file at ``rel`` (a path relative to the repository)."""
    rules = _rules_for(rel)
    path = Path(rel)
    module = _module_of(path)
    out = []
    # a file's own entry extends what its folder's entry allows (e.g. the conformance suite)
    only = tuple(n for rule in rules for n in rule.get("may_import", ()))
    lazy = tuple(n for rule in rules for n in rule.get("may_import_in_functions", ()))
    limited = any("may_import" in rule for rule in rules)
    for line, name, in_function in imports(source, module, path.name == "__init__.py"):
        for rule in rules:
            never = rule.get("must_not_import", ())
            if _covers(never, name):
                out.append(f"{rel}:{line} imports {name} (must not import {list(never)})")
        if not limited or name.split(".")[0] in STDLIB or _covers(only, name):
            continue
        if in_function and _covers(lazy, name):
            continue
        where = "" if in_function else " at module level"
        out.append(f"{rel}:{line} imports {name}{where}; allowed: the stdlib, {list(only)}, "
                   f"in functions also {list(lazy)}")
    return out


def _files() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for package in PROJECT for p in (ROOT / package).rglob("*.py")
                  if "__pycache__" not in p.parts)


def test_every_rule_names_an_existing_path_and_known_keys():
    keys = {"may_import", "may_import_in_functions", "must_not_import", "import_loads_of_the_project",
            "import_never_loads"}
    for path, rule in LAYERS.items():
        assert (ROOT / path).exists(), path
        assert set(rule) <= keys, (path, set(rule) - keys)


def test_the_packages_follow_the_layering_rules():
    files = _files()
    assert len(files) > 20 and "blackbox_repo/configspace.py" in files
    broken = [v for rel in files for v in violations(rel, (ROOT / rel).read_text(encoding="utf-8"))]
    assert not broken, "layering rules broken:\n" + "\n".join(broken)


def import_graph(sources: dict[str, str]) -> dict[str, dict[str, int]]:
    """Module -> {project module it imports: first line} over every import statement of every
    file (``{path: source}``), those inside functions included; ``from a import b`` is an edge
    to ``a.b`` when that is a module, else to ``a``."""
    modules = {_module_of(Path(rel)): rel for rel in sources}
    graph: dict[str, dict[str, int]] = {m: {} for m in modules}
    for module, rel in modules.items():
        for line, name, _ in imports(sources[rel], module, rel.endswith("__init__.py")):
            target = name
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module:
                graph[module].setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def test_the_project_has_no_import_cycles():
    # imports inside functions count: one that exists to dodge a cycle hides the cycle, it does
    # not remove it. Optional third-party packages imported inside functions are no edges here.
    files = _files()
    graph = import_graph({rel: (ROOT / rel).read_text(encoding="utf-8") for rel in files})
    found = cycles(graph)
    where = {_module_of(Path(rel)): rel for rel in files}
    lines = [f"{' <-> '.join(c)}: " + ", ".join(f"{where[a]}:{graph[a][b]} imports {b}"
                                                  for a in c for b in sorted(graph[a]) if b in c)
             for c in found]
    assert not found, "import cycles (docs/architecture.md#layering):\n" + "\n".join(lines)


def test_the_cycle_check_sees_imports_inside_functions():
    sources = {"pkg/__init__.py": "", "pkg/a.py": "from pkg.b import x\n",
               "pkg/b.py": "def f():\n    from pkg import a\n", "pkg/c.py": "import pkg.a\nimport numpy\n"}
    graph = import_graph(sources)
    assert graph["pkg.b"] == {"pkg.a": 2} and graph["pkg.c"] == {"pkg.a": 1}
    assert cycles(graph) == [["pkg.a", "pkg.b"]]
    sources["pkg/b.py"] = "import json\n"
    assert cycles(import_graph(sources)) == []


@pytest.mark.parametrize("path", [p for p, rule in LAYERS.items() if "import_loads_of_the_project" in rule])
def test_importing_loads_only_what_the_rules_allow(path):
    module = _module_of(Path(path.rstrip("/")))
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    rule = LAYERS[path]
    project = [m for m in loaded if _covers(PROJECT, m) and not _covers((module,), m)
               and m not in rule["import_loads_of_the_project"]]
    assert not project, f"import {module} loads {project}"
    third_party = [m for m in loaded if _covers(rule["import_never_loads"], m)]
    assert not third_party, f"import {module} loads {sorted({m.split('.')[0] for m in third_party})}"


@pytest.mark.parametrize("rel, source, expected", [
    ("methods/x.py", "import numpy.linalg\nfrom scipy import stats\nimport math\nfrom . import base\n", []),
    ("methods/x.py", "from blackbox_repo.configspace import uniform\nfrom blackbox_repo import configspace\n", []),
    ("methods/x.py", "def adapter():\n    import optuna\n", []),
    ("methods/x.py", "import optuna\n", ["methods/x.py:1 imports optuna at module level"]),
    ("methods/x.py", "try:\n    import pandas\nexcept ImportError:\n    pass\n", ["imports pandas at module level"]),
    ("methods/x.py", "def f():\n    import sklearn\n", ["methods/x.py:2 imports sklearn;"]),
    ("methods/x.py", "from blackbox_repo import load_blackbox\n", ["imports blackbox_repo.load_blackbox at"]),
    ("methods/x.py", "from ..simulator import simulate\n", ["imports simulator.simulate at"]),
    ("methods/sub/__init__.py", "from .. import base\nfrom . import y\n", []),
    ("blackbox_repo/x.py", "import pandas\nfrom methods.base import Trial\n", ["x.py:2 imports methods.base.Trial (must not"]),
    ("blackbox_repo/x.py", "def f():\n    from studies import cli\n", ["imports studies.cli (must not"]),
    ("blackbox_repo/configspace.py", "from blackbox_repo.blackbox import Blackbox\n", ["imports blackbox_repo.blackbox"]),
    ("blackbox_repo/configspace.py", "from . import storage\n", ["imports blackbox_repo.storage"]),
    ("simulator/x.py", "import studies.cli\nimport methods\nimport pandas\n", ["x.py:1 imports studies.cli"]),
])
def test_the_checker_catches_what_it_should(rel, source, expected):
    found = violations(rel, source)
    assert len(found) == len(expected), found
    for message, part in zip(found, expected):
        assert part in message, (message, part)
