"""Abuse limits: requests per client address and per API key on the conversation and
upload paths, failed authentications per address, and one turn at a time per conversation.

Counting uses the `limits` library (moving windows, in this process's memory: one
`clearline serve` process owns a data directory, so its counters are the installation's).
The client address is the one uvicorn reports: behind a reverse proxy on the same host,
uvicorn takes it from X-Forwarded-For (its `forwarded_allow_ips`, 127.0.0.1 by default).

A refused request gets 429 with `Retry-After` (seconds) and the usual error body:
`rate_limited` when a limit is used up, `turn_in_progress` when the conversation's previous
message is still being answered (the second message is refused at once rather than queued,
so a burst cannot tie up the server's worker threads; the client sends it again when the
reply has come).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from control.errors import Unauthorized
from knowledge.errors import ClearlineError
from service.settings import Settings

Group = Literal["conversations", "uploads"]


class TooManyRequests(ClearlineError):
    """A rate limit is used up (429); `retry_after` is in whole seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TurnInProgress(TooManyRequests):
    """The conversation's previous message is still being answered (429)."""


class RateLimits:
    """The installation's counters. Thread-safe; one per app."""

    def __init__(self, settings: Settings) -> None:
        # The settings have checked each limit's form (COUNT/PERIOD).
        self.enabled = settings.rate_limits
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._items: dict[str, RateLimitItem] = {
            "conversations_ip": parse(settings.rate_limit_conversations_per_ip),
            "conversations_key": parse(settings.rate_limit_conversations_per_key),
            "uploads_ip": parse(settings.rate_limit_uploads_per_ip),
            "uploads_key": parse(settings.rate_limit_uploads_per_key),
            "failed_auth_ip": parse(settings.rate_limit_failed_auth_per_ip),
        }
        self._turns: set[str] = set()
        self._turns_lock = threading.Lock()

    def _retry_after(self, name: str, who: str) -> int:
        stats = self._limiter.get_window_stats(self._items[name], name, who)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def hit(self, group: Group, per: Literal["ip", "key"], who: str) -> None:
        """Count one request of `who` (an address or a key id); TooManyRequests if over."""
        name = f"{group}_{per}"
        if self.enabled and not self._limiter.hit(self._items[name], name, who):
            item = self._items[name]
            whom = "this address" if per == "ip" else "this API key"
            raise TooManyRequests(
                f"too many requests to the {group} API from {whom} (limit: {item}); wait for "
                "Retry-After seconds, then try again",
                self._retry_after(name, who),
            )

    def check_authentication(self, address: str) -> None:
        """Before a credential is checked: TooManyRequests while `address` has used up its
        failed authentications, even for a valid credential (else the limit would still
        answer whether a guess was right)."""
        name = "failed_auth_ip"
        if self.enabled and not self._limiter.test(self._items[name], name, address):
            raise TooManyRequests(
                "too many failed authentications from this address; wait before trying again",
                self._retry_after(name, address),
            )

    def failed_authentication(self, address: str) -> None:
        if self.enabled:
            self._limiter.hit(self._items["failed_auth_ip"], "failed_auth_ip", address)

    @contextmanager
    def turn(self, conversation_id: str) -> Iterator[None]:
        """Hold the conversation's one turn; TurnInProgress if another request holds it."""
        with self._turns_lock:
            if conversation_id in self._turns:
                raise TurnInProgress(
                    "the previous message of this conversation is still being answered; "
                    "send this one again when its reply has come",
                    1,
                )
            self._turns.add(conversation_id)
        try:
            yield
        finally:
            with self._turns_lock:
                self._turns.discard(conversation_id)


@contextmanager
def counting_failures(request: Request) -> Iterator[None]:
    """Wrap a check of a credential the request sent (an API key, a session cookie, a
    sign-in form): 429 while the client's address has used up its failed authentications;
    an Unauthorized raised inside counts as one more."""
    limits, address = rate_limits(request), client_address(request)
    limits.check_authentication(address)
    try:
        yield
    except Unauthorized:
        limits.failed_authentication(address)
        raise


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limits(request: Request) -> RateLimits:
    limits: RateLimits = request.app.state.rate_limits
    return limits
