"""Tenant names and the partition names derived from them."""

from __future__ import annotations

import re

from knowledge.errors import InvalidTenantName

TENANT_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")


def validate_tenant(name: str) -> str:
    """Return `name` if it is a valid tenant name, else raise with the rule spelled out."""
    if not TENANT_PATTERN.match(name):
        raise InvalidTenantName(
            f"invalid tenant name '{name}': use 3-40 lowercase letters, digits or hyphens, "
            "starting and ending with a letter or digit (for example 'northwind')"
        )
    return name


def partition_name(tenant: str) -> str:
    """Identifier-safe partition name for a tenant (hyphens become underscores)."""
    return validate_tenant(tenant).replace("-", "_")
