"""What the product packages import, read from their source with `ast` (nothing is imported).

Shared by tests/test_layout.py and tests/test_packaging.py.

    for site in imports_of(ROOT / "agent" / "turn.py"):
        site.path, site.line, site.module, site.top
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The packages Clearline ships, in the order data flows; those that do not exist yet are skipped.
PRODUCT = (
    "knowledge",
    "ingest",
    "agent",
    "conversations",
    "privacy",
    "evaluation",
    "control",
    "service",
)


@dataclass(frozen=True)
class ImportSite:
    """One imported module: where (relative path, line) and its absolute dotted name."""

    path: str
    line: int
    module: str

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


def product_packages() -> list[str]:
    """The product packages that exist in the checkout (a directory with `__init__.py`)."""
    return [name for name in PRODUCT if (ROOT / name / "__init__.py").is_file()]


def first_party() -> set[str]:
    """Top-level names that belong to this repository (packages and top-level modules)."""
    names = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    return names | {p.stem for p in ROOT.glob("*.py")}


def source_files(package: str) -> list[Path]:
    """Every .py file of a package, sorted, caches left out."""
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports_of(path: Path) -> list[ImportSite]:
    """Every import statement in a file (also inside functions and TYPE_CHECKING blocks),
    relative imports resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    relative = str(path.relative_to(ROOT))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package[:-1]
    sites: list[ImportSite] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            sites.extend(ImportSite(relative, node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            sites.append(ImportSite(relative, node.lineno, base))
    return sorted(sites, key=lambda s: (s.path, s.line, s.module))


def product_imports() -> list[ImportSite]:
    """The imports of every product package's source files."""
    return [site for pkg in product_packages() for f in source_files(pkg) for site in imports_of(f)]
