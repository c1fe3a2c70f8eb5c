"""Encryption at rest for secrets an admin hands Clearline (action connections' headers).

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) with keys from settings: the
first key encrypts, every key decrypts, so a key can be rotated by putting the new one
first. Without a configured key, one is generated into `<data-dir>/secrets.key` (mode
0600) on first use; production installations should set `CLEARLINE_SECRETS_KEY` and keep
the key outside the data directory and its backups.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from control.errors import ConfigurationError

logger = logging.getLogger(__name__)


class SecretBox:
    """Encrypts and decrypts small JSON mappings of secrets.

    >>> box = SecretBox([Fernet.generate_key().decode()])
    >>> box.open(box.seal({"Authorization": "Bearer x"}))
    {'Authorization': 'Bearer x'}
    """

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigurationError("no secrets key; set CLEARLINE_SECRETS_KEY")
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except (ValueError, TypeError):
            raise ConfigurationError(
                "CLEARLINE_SECRETS_KEY is not a Fernet key (32 url-safe base64-encoded bytes); "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from None

    @classmethod
    def from_settings(cls, configured: str | None, key_file: Path) -> SecretBox:
        """The configured keys (comma-separated), else the data directory's key file,
        created on first use."""
        if configured:
            return cls([key for key in configured.split(",") if key.strip()])
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as out:
                out.write(Fernet.generate_key().decode())
            logger.warning(
                "generated a secrets key in %s; set CLEARLINE_SECRETS_KEY to keep it outside "
                "the data directory",
                key_file,
            )
        return cls([key_file.read_text(encoding="utf-8").strip()])

    def seal(self, secrets: Mapping[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(dict(secrets)).encode()).decode()

    def open(self, token: str) -> dict[str, str]:
        if not token:
            return {}
        try:
            opened = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ConfigurationError(
                "stored secrets cannot be decrypted with the configured CLEARLINE_SECRETS_KEY; "
                "restore the key they were written with (list it after the new one to rotate)"
            ) from None
        return {str(k): str(v) for k, v in opened.items()}
