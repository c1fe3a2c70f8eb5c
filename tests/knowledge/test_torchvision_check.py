"""A torchvision that does not load with this torch (what a plain `pip install .` can leave)
gets a clear error naming the fix, not a traceback from inside transformers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from knowledge.embed_onnx import check_torchvision, export_onnx
from knowledge.errors import InstallError


class _BrokenTorchvision:
    """A meta-path finder whose torchvision fails to import as the mismatched build does."""

    def find_spec(self, name: str, *args: object) -> None:
        if name == "torchvision":
            raise RuntimeError("operator torchvision::nms does not exist")
        return None


def test_a_broken_torchvision_is_named_with_its_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delitem(sys.modules, "torchvision", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_BrokenTorchvision(), *sys.meta_path])
    with pytest.raises(InstallError, match=r"pip uninstall -y torchvision"):
        export_onnx(tmp_path / "minilm-int8.onnx", "int8")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_no_torchvision_is_fine() -> None:
    check_torchvision()  # the lock does not install it
