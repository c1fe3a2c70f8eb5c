"""CLEARLINE_MODEL_CACHE_DIR: where the exported ONNX embedding graph is kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

from knowledge.embed_onnx import STALE_PARTIAL_S, sweep_stale_partials
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


def test_an_export_sweeps_partials_that_killed_exports_left(tmp_path: Path) -> None:
    """A partial untouched for over an hour is removed; a younger one (perhaps another
    process's export in progress) and the graphs are kept."""
    old = tmp_path / "minilm-int8.onnx.4242.partial"
    young = tmp_path / "minilm-fp32.onnx.4343.partial"
    graph = tmp_path / "minilm-int8.onnx"
    for path in (old, young, graph):
        path.write_bytes(b"onnx")
    two_hours_ago = time.time() - 2 * STALE_PARTIAL_S
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(graph, (two_hours_ago, two_hours_ago))
    assert sweep_stale_partials(tmp_path) == [old]
    assert not old.exists() and young.exists() and graph.exists()
