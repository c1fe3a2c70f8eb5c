"""`pip install .` gets everything the product packages need: declared dependencies, shipped
packages, shipped data files.

The lock (requirements.lock) is the reproducible install; these tests guard the other path,
a plain `pip install .` that resolves from pyproject.toml alone (docs/install.md).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from fnmatch import fnmatchcase
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.source_imports import ROOT, first_party, product_imports, product_packages

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def declared() -> set[str]:
    return {canonicalize_name(Requirement(d).name) for d in PYPROJECT["project"]["dependencies"]}


def shipped(package: str) -> bool:
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    return any(fnmatchcase(package, pattern) for pattern in find.get("include", ["*"]))


def test_every_third_party_import_is_a_declared_dependency() -> None:
    ours = first_party()
    providers = packages_distributions()
    wanted = declared()
    offenders: dict[str, list[str]] = {}
    for site in product_imports():
        if not site.top or site.top in sys.stdlib_module_names or site.top in ours:
            continue
        dists = providers.get(site.top)
        if not dists:
            problem = f"{site.top}: no installed distribution provides it (install it, declare it)"
        elif not {canonicalize_name(d) for d in dists} & wanted:
            problem = (
                f"{site.top}: comes from {' or '.join(sorted(set(dists)))}, which pyproject.toml "
                "[project].dependencies does not declare (add it there and to requirements.in)"
            )
        else:
            continue
        offenders.setdefault(problem, []).append(f"{site.path}:{site.line}")
    report = [f"{problem} -- at {', '.join(sites[:3])}" for problem, sites in offenders.items()]
    assert not report, "undeclared third-party imports:\n" + "\n".join(sorted(report))


def test_every_product_package_and_what_it_imports_is_shipped() -> None:
    packages = product_packages()
    unshipped = [p for p in packages if not shipped(p)]
    assert not unshipped, (
        f"product packages {unshipped} are not in pyproject.toml [tool.setuptools] packages "
        "find include: `pip install .` would leave them out"
    )
    ours = first_party()
    reaching = [
        f"{site} (not shipped by pyproject.toml)"
        for site in product_imports()
        if site.top in ours and not shipped(site.top)
    ]
    assert not reaching, "product code imports first-party code that does not ship:\n" + "\n".join(
        reaching
    )


def test_the_wheel_holds_every_file_of_the_product_packages(tmp_path: Path) -> None:
    """Build the wheel from a copy of the sources (the checkout stays untouched) and compare."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    caches = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in product_packages():
        shutil.copytree(ROOT / package, source / package, ignore=caches)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "--wheel-dir", str(tmp_path / "wheel"), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, f"building the wheel failed:\n{built.stderr[-3000:]}"
    (wheel,) = (tmp_path / "wheel").glob("clearline-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(
            archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")
        )
    expected = {
        p.relative_to(source).as_posix()
        for package in product_packages()
        for p in (source / package).rglob("*")
        if p.is_file()
    }
    missing = sorted(expected - names)
    assert not missing, (
        "files of the product packages missing from the wheel (add them to pyproject.toml "
        "[tool.setuptools.package-data], or give the folder an __init__.py):\n" + "\n".join(missing)
    )
    assert "clearline = service.cli:main" in entry_points
