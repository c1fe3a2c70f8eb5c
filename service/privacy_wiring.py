"""Privacy operations wired to one runtime: where the data lives and what to forget.

`privacy_for(runtime)` builds the redactor and the source remover; the CLI builds them per
command, the HTTP app once (app.state), so that its operations share one lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from privacy.places import DataPlaces
from privacy.redaction import Redactor
from privacy.source_removal import SourceRemover
from service.runtime import Runtime

# Tables whose rows the tenant's built agent is made from (configuration, procedures).
_AGENT_TABLES = ("tenant_configs", "procedures", "action_connections")


@dataclass(frozen=True)
class Privacy:
    places: DataPlaces
    redactor: Redactor
    sources: SourceRemover


def _forget(runtime: Runtime, tenant: str, changed: Sequence[str]) -> None:
    """Drop in-memory copies that may hold rewritten text: the tenant's built agent (a new
    configuration version rebuilds it) and the evaluation agent's in-memory traces."""
    if any(column.split(".")[0] in _AGENT_TABLES for column in changed):
        runtime.agents.update(tenant, {})
    runtime.__dict__.pop("evaluation_agent", None)


def privacy_for(runtime: Runtime) -> Privacy:
    """The privacy operations of `runtime` (build once per process: they share one lock)."""
    places = DataPlaces(
        data_dir=runtime.settings.data_dir,
        control_db=lambda tenant: runtime.settings.region_db(runtime.region_of(tenant)),
        sessions=runtime.sessions,
        knowledge=runtime.store,
        embedder=runtime.embedder,
        forget=partial(_forget, runtime),
    )
    return Privacy(places, Redactor(places, runtime.pii_detector), SourceRemover(places))
