"""Where one installation keeps a tenant's data, as the privacy operations need to reach it.

The service builds a `DataPlaces` from its runtime (privacy never imports the service); the
operations read and rewrite every store through it, then compact the files under
`data_dir`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from knowledge.protocols import Embedder
from knowledge.store import KnowledgeStore


@dataclass(frozen=True)
class DataPlaces:
    """The stores of one data directory and the hooks to forget in-memory copies.

    `control_db(tenant)` is the control database holding the tenant's rows (its region's).
    `forget(tenant, changed)` drops what the process keeps in memory for the tenant (built
    agents, cached counts); `changed` names the `table.column`s a rewrite touched.
    """

    data_dir: Path
    control_db: Callable[[str], Path]  # tenant -> its region's control database
    sessions: sessionmaker[Session]
    knowledge: Callable[[str], KnowledgeStore]
    embedder: Embedder
    forget: Callable[[str, Sequence[str]], None] = lambda tenant, changed: None
    # One privacy operation at a time per process: each ends by rewriting whole files.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.data_dir))
        except ValueError:
            return str(path)
