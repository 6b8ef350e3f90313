"""The two floors of docs/architecture.md, checked on the source: arrows only go down.

Every ``import`` counts, at module level or inside a function (a lazy import is how a circle
hides), read with :mod:`ast` from the files themselves, so nothing has to be importable.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Where each package's files are (the spiders install as ``newsarchive.spiders``).
ROOTS = {"newsarchive": REPO / "newsarchive", "newsarchive.spiders": REPO / "spiders"}
#: The ground floor: no Scrapy, no Twisted, no shell.
CORE = (
    "newsarchive.archive",
    "newsarchive.extraction",
    "newsarchive.discovery",
    "newsarchive.state",
    "newsarchive.items",
    "newsarchive.schema",
    # Scrapy-free too: the dataset builder, the run report, the URL log.
    "newsarchive.dataset",
    "newsarchive.report",
    "newsarchive.urllog",
)
#: The upper floor: Scrapy components, commands and spiders.
SHELL = (
    "newsarchive.addon",
    "newsarchive.commands",
    "newsarchive.downloadermiddlewares",
    "newsarchive.downloadhandlers",
    "newsarchive.exporters",
    "newsarchive.extensions",
    "newsarchive.pages",
    "newsarchive.pipelines",
    "newsarchive.schedulers",
    "newsarchive.spidermiddlewares",
    "newsarchive.spiders",
)
SHELL_LIBRARIES = ("scrapy", "twisted")


def _module_name(path: Path) -> str:
    for package, root in sorted(ROOTS.items(), key=lambda kv: -len(kv[0])):
        if path.is_relative_to(root):
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise AssertionError(path)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for root in ROOTS.values()
        for path in root.rglob("*.py")
        if ".venv" not in path.parts
    }


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every module ``name`` imports (``from a import b`` gives ``a`` and ``a.b``)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = name.split(".")
                parent = parent if is_package else parent[:-1]
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _within(module: str, packages: tuple[str, ...] | str) -> bool:
    packages = (packages,) if isinstance(packages, str) else packages
    return any(module == p or module.startswith(p + ".") for p in packages)


def _subpackage(module: str) -> str | None:
    return next((p for p in SHELL if _within(module, p)), None)


def test_the_tree_is_read():
    modules = _modules()
    assert "newsarchive.spiders.rferl" in modules
    assert "newsarchive.state.store" in modules
    assert any(_within(i, "scrapy") for i in _imports("x", modules["newsarchive.addon"]))
    relative = set(_imports("newsarchive.spiders.news", modules["newsarchive.spiders.news"]))
    assert "newsarchive.spiders.base" in relative


def test_the_core_imports_neither_scrapy_twisted_nor_the_shell():
    wrong = sorted(
        f"{name} imports {imported}"
        for name, path in _modules().items()
        if _within(name, CORE)
        for imported in _imports(name, path)
        if _within(imported, SHELL_LIBRARIES) or _within(imported, SHELL)
    )
    assert wrong == []


def test_the_shell_subpackages_form_no_circle():
    graph: dict[str, set[str]] = {}
    for name, path in _modules().items():
        source = _subpackage(name)
        if source is None:
            continue
        for imported in _imports(name, path):
            target = _subpackage(imported)
            if target is not None and target != source:
                graph.setdefault(source, set()).add(target)

    def cycle_from(start: str, node: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return (*seen, nxt)
            if nxt not in seen:
                found = cycle_from(start, nxt, (*seen, nxt))
                if found:
                    return found
        return None

    circles = [" -> ".join(c) for s in sorted(graph) if (c := cycle_from(s, s, (s,)))]
    assert circles == []


def test_nothing_but_scrapy_imports_a_spider_module():
    spiders = [n for n in _modules() if _within(n, "newsarchive.spiders")]
    wrong = sorted(
        f"{name} imports {imported}"
        for name, path in _modules().items()
        if not _within(name, "newsarchive.spiders")
        for imported in _imports(name, path)
        if imported in spiders and imported != "newsarchive.spiders"
    )
    assert wrong == []
