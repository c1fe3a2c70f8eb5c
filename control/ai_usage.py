"""Counts of model calls per tenant, by feature, model, region and endpoint (GET
/v1/ai/usage). Only counts are kept: never the text that was sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from control.models import utcnow
from control.models_customer import AiUsage
from control.regional import tenant_regions


@dataclass(frozen=True)
class ModelCall:
    tenant: str
    feature: str
    model: str
    region: str
    endpoint: str
    failed: bool = False


@tenant_regions
class AiUsageBook:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def count(self, calls: list[ModelCall]) -> None:
        if not calls:
            return
        with self._sessions.begin() as session:
            for call in calls:
                key = (call.tenant, call.feature, call.model, call.region, call.endpoint)
                row = session.get(AiUsage, key)
                if row is None:
                    row = AiUsage(tenant=call.tenant, feature=call.feature, model=call.model,
                                  region=call.region, endpoint=call.endpoint, calls=0,
                                  failures=0, chars_sent=0)  # fmt: skip
                    session.add(row)
                row.calls += 1
                row.failures += int(call.failed)
                row.last_at = utcnow()

    def usage(self, tenant: str) -> list[dict[str, Any]]:
        with self._sessions() as session:
            rows = session.scalars(
                select(AiUsage)
                .where(AiUsage.tenant == tenant)
                .order_by(AiUsage.feature, AiUsage.model, AiUsage.region, AiUsage.endpoint)
            ).all()
        return [
            {"feature": r.feature, "model": r.model, "region": r.region, "endpoint": r.endpoint,
             "calls": r.calls, "failures": r.failures, "last_at": r.last_at.isoformat()}
            for r in rows
        ]  # fmt: skip
