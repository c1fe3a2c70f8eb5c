"""A review the server did not finish (killed after claiming the draft) does not leave the
draft stuck: on the next start it is pending again, and approving it runs the action at
most once, even when the company system had already received it (same Idempotency-Key)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.demo import start_actions_service
from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth
from tests.service.test_trust_actions import (
    drafts,
    refund_draft,
    refund_posts,
    review,
    seen,
    set_up_acme,
    start,
)


def _interrupt(data_dir: Path, draft: str) -> None:
    """What a kill between the claim and the result leaves: the draft claimed, no result."""
    with sqlite3.connect(data_dir / "regions" / "eu" / "clearline.db") as db:
        db.execute("UPDATE messages SET draft_status='approving', reviewed_by='agent' "
                   "WHERE id=?", (draft,))  # fmt: skip


@pytest.mark.slow
def test_an_interrupted_approval_is_pending_after_a_restart_and_runs_once(
    tmp_path: Path,
) -> None:
    from service.settings import Settings

    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, port=free_port(),
                        actions_url=f"http://127.0.0.1:{free_port()}")  # fmt: skip
    actions = start_actions_service(settings)
    company: Any = actions.server.config.app
    try:
        with LiveServer(settings) as live:
            set_up_acme(live, actions)
            conversation = start(live)
            refund = refund_draft(live, conversation)
            (listed,) = [d for d in drafts(live, conversation) if d["message_id"] == refund]
            # The killed server had already sent the refund when it died.
            sent = httpx.post(
                f"{settings.actions_url}/refunds", json=listed["action"]["body"],
                headers=auth(settings.actions_token.get_secret_value())
                | {"Idempotency-Key": refund},
            )  # fmt: skip
            assert sent.status_code == 200, sent.text
        _interrupt(data_dir, refund)

        restarted = Settings(data_dir=data_dir, port=free_port(),
                             actions_url=settings.actions_url)  # fmt: skip
        with LiveServer(restarted) as served:
            again: Any = served
            again.keys, again.store = live.keys, company.state.store
            # Listed again among the pending drafts (GET /v1/drafts lists only those).
            assert [d["message_id"] for d in drafts(again, conversation)] == [refund]
            approved = review(again, refund, True)
            assert approved.status_code == 200, approved.text
            assert approved.json()["action_result"]["ok"] is True
            assert len(again.store.refunds) == 1
            assert refund_posts(again.store) == [("POST", "/refunds", refund)] * 2
            assert any("Done: refund" in t for t in seen(again, conversation))
            assert review(again, refund, True).status_code == 409
    finally:
        actions.stop()
    with sqlite3.connect(data_dir / "regions" / "eu" / "clearline.db") as db:
        actions_logged = [r[0] for r in db.execute("SELECT action FROM audit_log")]
    assert "draft.review_interrupted" in actions_logged
