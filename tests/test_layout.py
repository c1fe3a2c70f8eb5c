"""The layout of the product packages: small modules, a short agent top level, and import
arrows that point down (knowledge <- ingest, agent <- conversations/QA <- service).

Each test lists every offender, not only the first.
"""

from __future__ import annotations

from tests.source_imports import ROOT, product_imports, product_packages, source_files

MAX_LINES = 400
MAX_AGENT_MODULES = 8
# What each product package may import among the product packages (itself always allowed).
ALLOWED: dict[str, frozenset[str]] = {
    "knowledge": frozenset(),
    "ingest": frozenset({"knowledge"}),
    "agent": frozenset({"knowledge"}),
}
# Any product package except these may be imported by the middle layer.
MIDDLE = ("conversations", "privacy", "evaluation", "control")
NEVER_FROM_MIDDLE = frozenset({"service"})


def _allowed(package: str) -> frozenset[str]:
    if package in ALLOWED:
        return ALLOWED[package]
    everything = frozenset(product_packages())
    if package in MIDDLE:
        return everything - NEVER_FROM_MIDDLE
    return everything  # service wires everything


def test_no_module_is_over_400_lines() -> None:
    too_long = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for package in product_packages()
        for path in source_files(package)
        if "migrations" not in path.parts
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not too_long, f"modules over {MAX_LINES} lines (split by concern):\n" + "\n".join(
        too_long
    )


def test_agent_top_level_has_at_most_8_modules() -> None:
    modules = sorted(p.name for p in (ROOT / "agent").glob("*.py") if p.name != "__init__.py")
    assert len(modules) <= MAX_AGENT_MODULES, (
        f"agent/ has {len(modules)} top-level modules (at most {MAX_AGENT_MODULES}; move steps "
        f"into agent/understand, answer, procedures or llm): {', '.join(modules)}"
    )


def test_nothing_but_service_imports_service() -> None:
    offenders = [
        str(site)
        for site in product_imports()
        if site.top == "service" and not site.path.startswith("service/")
    ]
    assert not offenders, "only service may import service:\n" + "\n".join(offenders)


def test_import_arrows_point_down() -> None:
    products = set(product_packages())
    offenders = []
    for site in product_imports():
        package = site.path.split("/")[0]
        if site.top in products and site.top != package and site.top not in _allowed(package):
            allowed = ", ".join(sorted(_allowed(package))) or "no other product package"
            offenders.append(f"{site} ({package} may import only: {allowed})")
    assert not offenders, "imports that point up or sideways:\n" + "\n".join(offenders)
