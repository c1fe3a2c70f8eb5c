"""CLEARLINE_MODEL_CACHE_DIR: where the exported ONNX embedding graph is kept."""

from __future__ import annotations

from pathlib import Path

from service.runtime import build_embedder
from service.settings import Settings
from tests.service.test_cli import clearline


def test_data_directories_share_one_exported_graph(
    tmp_path: Path, shared_model_cache: Path
) -> None:
    graph = shared_model_cache / "minilm-int8.onnx"
    first = build_embedder(Settings(data_dir=tmp_path / "a"))
    vector = first.embed(["How long does shipping take?"])[0]
    exported = graph.stat().st_mtime_ns  # exported by this test or an earlier one
    second = build_embedder(Settings(data_dir=tmp_path / "b"))
    assert second.embed(["How long does shipping take?"])[0] == vector
    assert graph.stat().st_mtime_ns == exported  # used, not exported again
    assert not (tmp_path / "a" / "models").exists() and not (tmp_path / "b" / "models").exists()
    assert not list(shared_model_cache.glob("*.partial"))


def test_unset_it_is_the_data_directorys_models_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", model_cache_dir=None)
    assert settings.model_cache == tmp_path / "data" / "models"


def test_a_file_there_is_refused_with_a_clear_message_and_data_is_kept(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    made = clearline("tenant", "create", "acme", "--region", "eu", data_dir=data_dir)
    assert made.returncode == 0
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    refused = clearline("tenant", "list", data_dir=data_dir, CLEARLINE_MODEL_CACHE_DIR=str(a_file))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert (
        f"invalid setting (CLEARLINE_MODEL_CACHE_DIR: Value error, '{a_file}' is a file; "
        "give a folder (it is created if missing))" in refused.stderr
    )
    assert a_file.read_text() == "not a folder"
    listed = clearline("tenant", "list", data_dir=data_dir)
    assert listed.returncode == 0 and "acme" in listed.stdout
