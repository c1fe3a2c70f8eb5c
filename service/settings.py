"""The one Settings class: every knob, read from CLEARLINE_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from limits import parse as parse_rate_limit
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from control.tenants import REGIONS, Region


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
    model_cache_dir: Path | None = Field(
        None,
        description="Where the ONNX embedding graphs exported from the packaged weights are "
        "kept (the export takes about 12 s); unset: <data-dir>/models. Data directories on one "
        "machine may share one.",
    )
    embed_threads: int = Field(1, ge=1, description="Threads for embedding (torch or ONNX).")
    embed_batch: int = Field(
        64,
        ge=1,
        description="Chunks per embedding call (torch, onnx-fp32; onnx-int8: one text a call).",
    )
    max_request_mb: float = Field(
        10, gt=0, description="Largest request body other than a knowledge upload (413 above)."
    )
    max_upload_files: int = Field(100, ge=1, description="Files accepted in one upload request.")
    chat_base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint (e.g. http://127.0.0.1:8080/v1) for generative "
        "features; unset = none (the default composer needs no model).",
    )
    chat_model: str = Field("default", description="Model name sent to the chat endpoint.")
    chat_api_key: str | None = Field(None, description="Bearer key for the chat endpoint, if any.")
    chat_timeout_s: float = Field(30, gt=0, description="Timeout of one chat-model request.")
    region_chat_base_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Per-region OpenAI-compatible endpoints as JSON, e.g. {'eu': "
        "'http://10.0.0.5:8080/v1'} written with double quotes. When set, a tenant's chat-model "
        "calls go only to its region's endpoint (a region without one gets none); unset: "
        "chat_base_url serves every region.",
    )
    chat_max_request_chars: int = Field(
        200_000, gt=0, description="Largest chat-model request (characters, all messages); "
        "larger ones are refused before anything is sent.",
    )  # fmt: skip
    actions_url: str = Field(
        "http://127.0.0.1:8765",
        description="Demo only: where `clearline demo` serves the sample actions service; it "
        "becomes the demo tenant's `northwind` connection (tenants set their own connections "
        "with PUT /v1/actions/connections/{name}).",
    )
    actions_token: SecretStr = Field(
        SecretStr("demo-token"),
        description="Demo only: the sample actions service's bearer token, stored (encrypted) "
        "as the demo tenant's `northwind` connection secret.",
    )
    secrets_key: SecretStr | None = Field(
        None,
        description="Fernet key(s), comma-separated (the first encrypts), for secrets stored "
        "at rest (action connections); unset: a key generated into <data-dir>/secrets.key.",
    )
    actions_timeout_s: float = Field(5, gt=0, description="Timeout of one procedure action call.")
    qa_interval_s: float = Field(
        0.5, gt=0, le=60, description="How often the server looks for replies to score."
    )
    qa_judge: bool = Field(
        False, description="Use the configured chat model as the QA judge (ragas LLM metrics)."
    )
    retention_interval_s: float = Field(
        3600, gt=0, description="How often the server applies every tenant's retention policy."
    )
    rate_limits: bool = Field(
        True, description="Apply the request limits below (429 with Retry-After when used up)."
    )
    rate_limit_conversations_per_ip: str = Field(
        "300/minute", description="Requests to the conversation API per client address."
    )
    rate_limit_conversations_per_key: str = Field(
        "3000/minute",
        description="Requests to the conversation API per API key (a chat widget's end_user "
        "key carries every customer of the tenant).",
    )
    rate_limit_uploads_per_ip: str = Field(
        "30/minute", description="Knowledge uploads per client address."
    )
    rate_limit_uploads_per_key: str = Field("30/minute", description="Knowledge uploads per key.")
    rate_limit_failed_auth_per_ip: str = Field(
        "100/minute",
        description="Failed authentications per client address; when used up, requests with "
        "credentials from that address get 429 until the window moves on.",
    )
    host: str = Field("127.0.0.1", description="Address `clearline serve` binds to.")
    port: int = Field(8000, description="Port `clearline serve` listens on.")

    @field_validator("region_chat_base_urls")
    @classmethod
    def _regions(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(REGIONS))
        if unknown:
            raise ValueError(f"unknown region(s) {unknown}; regions are {', '.join(REGIONS)}")
        return value

    @field_validator(
        "rate_limit_conversations_per_ip", "rate_limit_conversations_per_key",
        "rate_limit_uploads_per_ip", "rate_limit_uploads_per_key",
        "rate_limit_failed_auth_per_ip",
    )  # fmt: skip
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_rate_limit(value)
        except ValueError:
            raise ValueError(
                f"'{value}' is not a rate limit; write COUNT/PERIOD, e.g. '120/minute'"
            ) from None
        return value

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_folder(cls, value: object) -> object:
        if isinstance(value, str | Path) and str(value).strip() == "":
            raise ValueError("it is empty; give a folder (it is created if missing)")
        if isinstance(value, str | Path):
            _check_folder(Path(value))
        return value

    @field_validator("model_cache_dir")
    @classmethod
    def _cache_folder(cls, value: Path | None) -> Path | None:
        if value is not None:
            _check_folder(value)
        return value

    @property
    def model_cache(self) -> Path:
        """The folder of exported ONNX embedding graphs."""
        return self.model_cache_dir or self.data_dir / "models"

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
        """The directory: tenants and API keys (control/regional.py)."""
        return self.data_dir / "clearline.db"

    def region_db(self, region: str) -> Path:
        """A region's control database: its tenants' conversations, traces, audit log..."""
        return self.region_dir(region) / "clearline.db"


def _check_folder(path: Path) -> None:
    """Refuse a folder path that is, or lies under, a file (it could never be created)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise ValueError(
                    f"'{candidate}' is a file; give a folder (it is created if missing)"
                )
            return
