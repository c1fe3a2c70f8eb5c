"""The one Settings class: every knob, read from CLEARLINE_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Region = Literal["us", "eu", "uk", "de", "jp", "au"]
REGIONS: tuple[str, ...] = ("us", "eu", "uk", "de", "jp", "au")


class Settings(BaseSettings):
    """Configuration of a Clearline installation (env prefix `CLEARLINE_`)."""

    model_config = SettingsConfigDict(env_prefix="CLEARLINE_", extra="ignore")

    data_dir: Path = Field(
        Path("data"), description="Where every store of this installation lives."
    )
    default_region: Region = Field(
        "eu", description="Region of tenants created implicitly by `ingest`."
    )
    auto_create_tenants: bool = Field(
        True, description="`clearline ingest` creates a missing tenant in the default region."
    )
    max_file_mb: float = Field(
        50, gt=0, description="Largest accepted source file, checked before parsing."
    )
    max_unpacked_mb: float = Field(
        100, gt=0, description="Largest unpacked size of a DOCX package."
    )
    parse_timeout_s: float = Field(120, gt=0, description="Time budget for parsing one file.")
    parse_memory_mb: int = Field(
        2048, gt=0, description="Memory budget of the parse worker per file."
    )
    chunk_max_tokens: int = Field(200, ge=32, le=256, description="Token bound of one chunk.")
    chunk_overlap_tokens: int = Field(40, ge=0, description="Tokens shared by neighbouring chunks.")
    embedder: Literal["torch", "onnx-fp32", "onnx-int8"] = Field(
        "onnx-int8", description="Embedding backend for all-MiniLM-L6-v2 (see docs/benchmarks.md)."
    )
    embed_threads: int = Field(1, ge=1, description="Threads for embedding (torch or ONNX).")
    embed_batch: int = Field(64, ge=1, description="Chunks embedded per batch.")
    max_upload_files: int = Field(100, ge=1, description="Files accepted in one upload request.")
    chat_base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint (e.g. http://127.0.0.1:8080/v1) for generative "
        "features; unset = none (the default composer needs no model).",
    )
    chat_model: str = Field("default", description="Model name sent to the chat endpoint.")
    chat_api_key: str | None = Field(None, description="Bearer key for the chat endpoint, if any.")
    chat_timeout_s: float = Field(30, gt=0, description="Timeout of one chat-model request.")
    actions_url: str = Field(
        "http://127.0.0.1:8765", description="Base URL of the company's actions service."
    )
    actions_allowed_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost"],
        description="Hosts procedures may call (any other host is refused).",
    )
    actions_token: str = Field(
        "demo-token", description="Secret sent to the actions service; never written to traces."
    )
    actions_timeout_s: float = Field(5, gt=0, description="Timeout of one procedure action call.")
    qa_interval_s: float = Field(
        0.5, gt=0, le=60, description="How often the server looks for replies to score."
    )
    qa_judge: bool = Field(
        False, description="Use the configured chat model as the QA judge (ragas LLM metrics)."
    )
    host: str = Field("127.0.0.1", description="Address `clearline serve` binds to.")
    port: int = Field(8000, description="Port `clearline serve` listens on.")

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_unpacked_bytes(self) -> int:
        return int(self.max_unpacked_mb * 1024 * 1024)

    def region_dir(self, region: str) -> Path:
        return self.data_dir / "regions" / region

    @property
    def control_db(self) -> Path:
        return self.data_dir / "clearline.db"
