"""The README documents every setting and every route."""

from __future__ import annotations

from pathlib import Path

from service.app import create_app
from service.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [
        f"CLEARLINE_{name.upper()}"
        for name in Settings.model_fields
        if f"`CLEARLINE_{name.upper()}`" not in README
    ]
    assert missing == []


def test_every_route_is_documented() -> None:
    paths = create_app(Settings()).openapi()["paths"]
    missing = [
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method in item
        if f"`{method.upper()} {path}`" not in README
    ]
    assert missing == []
