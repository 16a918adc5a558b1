"""``docs/architecture.md`` stays current with the code.

- Every repository path written in backticks or as a link target (``methods/base.py``,
  ``tests/methods/``) exists; ``path.py::name`` (or ``path.py::Class.method``) must also define
  ``name`` there. A path with a placeholder (``methods/<name>.py``) needs its folder to exist.
- Every module of the four packages has its line in the module map (a table row starting with
  the module's path in backticks), so a new module cannot go undocumented.
- Every ``docs/architecture.md#<section>`` cited anywhere in the repository (code comments,
  docstrings, Markdown), and every ``(#anchor)`` link inside the page, names a heading of the
  page (GitHub's anchor rules).
"""
from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("blackbox_repo", "simulator", "methods", "studies")
#: first path components that make a backticked word a repository path
TOP_LEVEL = PACKAGES + ("tests", "docs", "benchmarks")
TOP_FILES = ("README.md", "setup.cfg", "Makefile", "pyproject.toml")
#: folders never searched for anchor citations
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", "demo-results"}
#: files searched for anchor citations
TEXT_SUFFIXES = (".py", ".md", ".cfg", ".toml", ".yaml", ".yml", ".txt")
CITATION = re.compile(r"docs/architecture\.md#([A-Za-z0-9_\-]+)")


def strip_fences(markdown: str) -> str:
    """The text without fenced code blocks (their contents are code, not references)."""
    return re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)


def headings(markdown: str) -> list[str]:
    """The ATX headings (``## Title``) outside code blocks, as written."""
    return [m.group(2).strip() for m in re.finditer(r"^(#{1,6})\s+(.+?)\s*#*\s*$", strip_fences(markdown), re.M)]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: markup dropped, lower case, punctuation but ``-`` and ``_``
    removed, spaces turned into ``-``.

    Example: ``slug("The `blackbox_repo` layer: files!")`` is ``"the-blackbox_repo-layer-files"``.
    """
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)       # links keep their text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every anchor of the page, duplicates numbered as GitHub does (``x``, ``x-1``, ...)."""
    out: set[str] = set()
    for heading in headings(markdown):
        base = slug(heading)
        name, n = base, 0
        while name in out:
            n += 1
            name = f"{base}-{n}"
        out.add(name)
    return out


def path_references(markdown: str) -> list[str]:
    """Backticked words and link targets that name something in the repository."""
    text = strip_fences(markdown)
    words = re.findall(r"`([^`\n]+)`", text) + re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text)
    refs = []
    for word in words:
        word = word.strip().split("#", 1)[0]
        if not word or any(c.isspace() for c in word) or "://" in word:
            continue
        first = word.split("/", 1)[0].split("::", 1)[0]
        if (first in TOP_LEVEL and "/" in word) or first in TOP_FILES:
            refs.append(word)
    return refs


def _defines(path: Path, dotted: str) -> bool:
    """Whether ``path`` defines ``dotted`` (``name`` or ``Class.attribute``)."""
    scope: list[ast.stmt] = ast.parse(path.read_text(encoding="utf-8")).body
    for part in dotted.split("."):
        found = None
        for node in scope:
            names: list[str] = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            if part in names:
                found = node
                break
        if found is None:
            return False
        scope = getattr(found, "body", [])
    return True


def missing_references(markdown: str, root: Path) -> list[str]:
    """The path references of ``markdown`` that do not resolve under ``root``."""
    bad = []
    for ref in path_references(markdown):
        path, _, symbol = ref.partition("::")
        if re.search(r"[<*{]", path):                      # a placeholder: its folder must exist
            folder = re.split(r"[<*{]", path, maxsplit=1)[0].rpartition("/")[0]
            if not (root / folder).is_dir():
                bad.append(f"{ref}: folder {folder!r} does not exist")
            continue
        target = root / path.rstrip("/")
        if not target.exists():
            bad.append(f"{ref}: no such file or folder")
        elif symbol and not (target.suffix == ".py" and _defines(target, symbol)):
            bad.append(f"{ref}: {path} does not define {symbol!r}")
    return bad


def package_modules(root: Path) -> list[str]:
    """Every module file of the four packages, relative to ``root``."""
    return sorted(str(p.relative_to(root)) for package in PACKAGES for p in (root / package).rglob("*.py")
                  if "__pycache__" not in p.parts)


def mapped_modules(markdown: str) -> set[str]:
    """Modules with a row in the module map: table rows whose first cell is a backticked ``.py`` path."""
    return set(re.findall(r"^\|\s*`([^`]+\.py)`\s*\|", markdown, re.M))


def text_files(root: Path, suffixes: tuple[str, ...] = TEXT_SUFFIXES) -> list[Path]:
    """The repository's text files with these suffixes, skipping hidden, virtual-env and build
    folders without walking into them."""
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        out += [Path(folder) / f for f in sorted(files) if Path(f).suffix in suffixes]
    return out


def cited_anchors(root: Path) -> list[tuple[str, str]]:
    """``(file, anchor)`` of every ``docs/architecture.md#<section>`` in the repository's text files."""
    out = []
    for path in text_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        out += [(str(path.relative_to(root)), anchor) for anchor in CITATION.findall(text)]
    return out


# ---------------------------------------------------------------------------- the checks
def test_every_path_in_the_architecture_page_exists():
    markdown = DOC.read_text(encoding="utf-8")
    assert len(path_references(markdown)) > 100, "the page should name the modules it describes"
    bad = missing_references(markdown, ROOT)
    assert not bad, "docs/architecture.md names paths that do not exist:\n" + "\n".join(bad)


def test_every_module_has_its_line_in_the_module_map():
    mapped = mapped_modules(DOC.read_text(encoding="utf-8"))
    missing = [m for m in package_modules(ROOT) if m not in mapped]
    assert not missing, ("modules without a line in the module map of docs/architecture.md (add a row "
                         "`| `path` | its job |` to the package's table):\n" + "\n".join(missing))


def test_every_cited_anchor_is_a_heading_of_the_page():
    markdown = DOC.read_text(encoding="utf-8")
    known = anchors(markdown)
    cited = cited_anchors(ROOT)
    assert len(cited) >= 3, "the code should point at the page (comments citing docs/architecture.md#...)"
    inside = [("docs/architecture.md", a) for a in re.findall(r"\]\(#([^)]+)\)", strip_fences(markdown))]
    bad = [f"{where}: #{anchor}" for where, anchor in cited + inside if anchor not in known]
    assert not bad, f"anchors that are no heading of docs/architecture.md (headings: {sorted(known)}):\n" + \
        "\n".join(bad)


def test_no_comment_cites_the_old_design_document():
    """The design lives in docs/architecture.md; DESIGN.md is not in the repository."""
    bad = [str(p.relative_to(ROOT)) for p in text_files(ROOT, (".py",))
           if p.resolve() != Path(__file__).resolve() and "DESIGN.md" in p.read_text(encoding="utf-8")]
    assert not bad, f"files citing DESIGN.md (cite docs/architecture.md#<section> instead): {bad}"


# ---------------------------------------------------------------------------- the checkers themselves
@pytest.mark.parametrize("heading, expected", [
    ("Simulator contract", "simulator-contract"),
    ("The `blackbox_repo` layer: files!", "the-blackbox_repo-layer-files"),
    ("A method (scheduler)", "a-method-scheduler"),
    ("See [the map](#module-map)", "see-the-map"),
])
def test_slug_follows_github(heading, expected):
    assert slug(heading) == expected


def test_duplicate_headings_are_numbered():
    assert anchors("# A\n## A\n```\n# not a heading\n```\n### B\n") == {"a", "a-1", "b"}


def test_the_reference_checker_catches_what_it_should(tmp_path):
    (tmp_path / "methods").mkdir()
    (tmp_path / "methods" / "base.py").write_text("class Scheduler:\n    def suggest(self):\n        pass\nX = 1\n")
    markdown = ("`methods/base.py` `methods/base.py::Scheduler.suggest` `methods/base.py::X` "
                "`methods/<name>.py` [link](methods/base.py) `hposim simulate` `results.parquet`\n"
                "`methods/gone.py` `methods/base.py::Scheduler.resume` `studies/<x>.py` [l](docs/none.md#a)\n"
                "```\n`methods/in_code_block.py`\n```\n")
    bad = missing_references(markdown, tmp_path)
    assert [b.split(":")[0] for b in bad] == ["methods/gone.py", "methods/base.py", "studies/<x>.py",
                                              "docs/none.md"]
    assert "does not define 'Scheduler.resume'" in bad[1]


def test_the_module_map_reader_takes_first_cells_only():
    markdown = "| `methods/a.py` | job |\n| x | `methods/b.py` |\n|`methods/c.py`|job|\n"
    assert mapped_modules(markdown) == {"methods/a.py", "methods/c.py"}
