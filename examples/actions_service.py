"""Northwind Outfitters' "company systems": a small local HTTP service the procedures call.

In-memory sample accounts, orders and subscriptions (all fictional), behind a bearer token
(`NORTHWIND_ACTIONS_TOKEN`, default `demo-token`). The endpoints mirror the agent buttons
of ABCD (look up the account, verify identity, validate the purchase, issue a refund,
update the order, check the subscription status); return windows follow the ABCD agent
guidelines (gold: always, silver: 180 days, bronze: 90 days, guest: 30 days).

The endpoints that change something honour an `Idempotency-Key` header: a request repeated
with the same key (concurrently or later) gets the first one's result and acts only once;
the same key with a different request gets 422. Every request is recorded in
`app.state.store.calls` (method, path, key) so a test can count what reached the system.

Usage: .venv/bin/python examples/actions_service.py [--port 8765]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hmac
import itertools
import json
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response
from pydantic import BaseModel, Field

TODAY = dt.date(2024, 6, 1)  # fixed, so sample answers never drift
RETURN_WINDOW_DAYS = {"gold": None, "silver": 180, "bronze": 90, "guest": 30}
ADDRESS_CHANGE_OK = ("order received", "in transit")

ACCOUNTS: list[dict[str, Any]] = [
    {"account_id": "NW-1001", "name": "Crystal Minh", "email": "cminh730@email.com",
     "pin": "4410", "membership": "bronze"},
    {"account_id": "NW-1002", "name": "Alessandro Phoenix", "email": "aphoenix939@email.com",
     "pin": "9127", "membership": "gold"},
    {"account_id": "NW-1003", "name": "Joyce Wu", "email": "jwu455@email.com",
     "pin": "3052", "membership": "guest"},
]  # fmt: skip
ORDERS: list[dict[str, Any]] = [
    {"order_id": "3348917502", "email": "cminh730@email.com", "status": "delivered",
     "product": "Michael Kors jeans", "amount": 94.0, "days_ago": 40,
     "address": "6821 1st Ave, San Mateo, NY 75227", "eta": "delivered on 2024-04-30"},
    {"order_id": "7916676427", "email": "aphoenix939@email.com", "status": "in transit",
     "product": "Michael Kors shirt", "amount": 69.0, "days_ago": 3,
     "address": "8865 Lexington Ave, La Fayette, TX 86229", "eta": "2024-06-04"},
    {"order_id": "5520194863", "email": "jwu455@email.com", "status": "order received",
     "product": "Guess boots", "amount": 120.0, "days_ago": 1,
     "address": "9998 Lincoln Ave, Raleigh, MI 14573", "eta": "2024-06-07"},
    {"order_id": "6402817735", "email": "jwu455@email.com", "status": "delivered",
     "product": "Tommy Hilfiger jacket", "amount": 149.0, "days_ago": 75,
     "address": "9998 Lincoln Ave, Raleigh, MI 14573", "eta": "delivered on 2024-03-22"},
]  # fmt: skip
SUBSCRIPTIONS: list[dict[str, Any]] = [
    {"email": "cminh730@email.com", "active": True, "due_amount": 0.0, "due_date": "2024-09-14"},
    {"email": "aphoenix939@email.com", "active": False, "due_amount": 99.0,
     "due_date": "2024-05-28"},
]  # fmt: skip


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


class EmailIn(BaseModel):
    email: str = Field(min_length=3, max_length=254)


class AccountIn(BaseModel):
    account_id: str


class PinIn(AccountIn):
    pin: str


class OrderIn(EmailIn):
    order_id: str


class AddressIn(OrderIn):
    address: str = Field(min_length=5, max_length=300)


class RefundIn(OrderIn):
    method: str = Field(pattern="^(credit card|gift card|paper check|store credit)$")


class PayIn(EmailIn):
    amount: float = Field(gt=0, le=10_000)


class Store:
    """The sample data of one app instance; refunds and payments are recorded here."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to the sample data, with no refunds, payments or reset links."""
        self.accounts = copy.deepcopy(ACCOUNTS)
        self.orders = copy.deepcopy(ORDERS)
        self.subscriptions = copy.deepcopy(SUBSCRIPTIONS)
        self.refunds: list[dict[str, Any]] = []
        self.payments: list[dict[str, Any]] = []
        self.reset_links: list[str] = []
        self.calls: list[tuple[str, str, str | None]] = []  # method, path, Idempotency-Key
        self._ids = itertools.count(1)
        self._replies: dict[str, tuple[str, dict[str, Any] | HTTPException]] = {}
        self._key_locks: dict[str, threading.Lock] = {}

    def once(
        self, key: str | None, request: str, act: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """Run `act` once per idempotency key; a repeat gets the first result (or error)."""
        if key is None:
            return act()
        with self.lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key in self._replies:
                first, outcome = self._replies[key]
                if first != request:
                    raise HTTPException(422, "Idempotency-Key was used for a different request")
                if isinstance(outcome, HTTPException):
                    raise outcome
                return dict(outcome)
            try:
                result = act()
            except HTTPException as error:
                self._replies[key] = (request, error)
                raise
            self._replies[key] = (request, dict(result))
            return result

    def next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):05d}"

    def account(self, *, email: str | None = None, account_id: str | None = None) -> Any:
        for account in self.accounts:
            if (email and account["email"] == email.strip().lower()) or (
                account_id and account["account_id"] == account_id
            ):
                return account
        return None

    def order(self, order_id: str, email: str) -> Any:
        for order in self.orders:
            if order["order_id"] == order_id.strip() and order["email"] == email.strip().lower():
                return order
        return None


def _order_view(store: Store, order: dict[str, Any]) -> dict[str, Any]:
    account = store.account(email=order["email"])
    level = account["membership"] if account else "guest"
    window = RETURN_WINDOW_DAYS[level]
    refunded = any(refund["order_id"] == order["order_id"] for refund in store.refunds)
    returnable = order["status"] == "delivered" and not refunded
    returnable = returnable and (window is None or order["days_ago"] <= window)
    purchased = TODAY - dt.timedelta(days=order["days_ago"])
    return {
        "found": True,
        "order_id": order["order_id"],
        "status": order["status"],
        "eta": order["eta"],
        "product": order["product"],
        "amount": order["amount"],
        "purchase_date": purchased.isoformat(),
        "days_since_purchase": order["days_ago"],
        "membership": level,
        "return_window_days": window,
        "returnable": returnable,
        "refunded": refunded,
        "address_changeable": order["status"] in ADDRESS_CHANGE_OK,
    }


def create_actions_app(token: str) -> FastAPI:
    """The service with fresh sample data; `app.state.store` holds it for inspection."""
    app = FastAPI(title="Northwind Outfitters company systems (sample)", version="1.0")
    store = Store()
    app.state.store = store

    def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        expected = f"Bearer {token}"
        if authorization is None or not hmac.compare_digest(authorization, expected):
            raise HTTPException(401, "missing or wrong bearer token")

    auth = [Depends(authorised)]

    @app.middleware("http")
    async def record(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        with store.lock:
            store.calls.append(
                (request.method, request.url.path, request.headers.get("idempotency-key"))
            )
        return await call_next(request)

    def fingerprint(path: str, body: BaseModel) -> str:
        return json.dumps([path, body.model_dump()], sort_keys=True)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/accounts/lookup", dependencies=auth)
    def lookup_account(body: EmailIn) -> dict[str, Any]:
        account = store.account(email=body.email)
        if account is None:
            return {"found": False}
        return {
            "found": True,
            "account_id": account["account_id"],
            "first_name": account["name"].split()[0],
            "membership": account["membership"],
        }

    @app.post("/accounts/verify-pin", dependencies=auth)
    def verify_pin(body: PinIn) -> dict[str, Any]:
        account = store.account(account_id=body.account_id)
        verified = account is not None and hmac.compare_digest(account["pin"], body.pin.strip())
        return {"verified": verified}

    @app.post("/accounts/password-reset", dependencies=auth)
    def password_reset(body: AccountIn, key: IdempotencyKey = None) -> dict[str, Any]:
        def act() -> dict[str, Any]:
            if store.account(account_id=body.account_id) is None:
                raise HTTPException(404, "no such account")
            with store.lock:
                store.reset_links.append(body.account_id)
            return {"sent": True, "expires_in_minutes": 30}

        return store.once(key, fingerprint("/accounts/password-reset", body), act)

    @app.post("/orders/lookup", dependencies=auth)
    def lookup_order(body: OrderIn) -> dict[str, Any]:
        order = store.order(body.order_id, body.email)
        return {"found": False} if order is None else _order_view(store, order)

    @app.post("/orders/address", dependencies=auth)
    def change_address(body: AddressIn, key: IdempotencyKey = None) -> dict[str, Any]:
        def act() -> dict[str, Any]:
            order = store.order(body.order_id, body.email)
            if order is None:
                raise HTTPException(404, "no such order")
            if order["status"] not in ADDRESS_CHANGE_OK:
                return {"updated": False, "status": order["status"]}
            with store.lock:
                order["address"] = body.address.strip()
            return {"updated": True, "status": order["status"]}

        return store.once(key, fingerprint("/orders/address", body), act)

    @app.post("/refunds", dependencies=auth)
    def refund(body: RefundIn, key: IdempotencyKey = None) -> dict[str, Any]:
        def act() -> dict[str, Any]:
            order = store.order(body.order_id, body.email)
            if order is None:
                raise HTTPException(404, "no such order")
            with store.lock:
                if not _order_view(store, order)["returnable"]:
                    raise HTTPException(409, "this order cannot be refunded")
                record = {
                    "refund_id": store.next_id("RF"),
                    "order_id": order["order_id"],
                    "amount": order["amount"],
                    "method": body.method,
                    "status": "issued",
                }
                store.refunds.append(record)
            return dict(record)

        return store.once(key, fingerprint("/refunds", body), act)

    @app.post("/subscriptions/lookup", dependencies=auth)
    def lookup_subscription(body: EmailIn) -> dict[str, Any]:
        email = body.email.strip().lower()
        for subscription in store.subscriptions:
            if subscription["email"] == email:
                return {"found": True, **{k: v for k, v in subscription.items() if k != "email"}}
        return {"found": False}

    @app.post("/subscriptions/pay", dependencies=auth)
    def pay(body: PayIn, key: IdempotencyKey = None) -> dict[str, Any]:
        def act() -> dict[str, Any]:
            email = body.email.strip().lower()
            for subscription in store.subscriptions:
                if subscription["email"] == email:
                    with store.lock:
                        receipt = store.next_id("PM")
                        store.payments.append({"receipt_id": receipt, "amount": body.amount})
                        due = max(0.0, subscription["due_amount"] - body.amount)
                        subscription["due_amount"] = due
                        subscription["active"] = due == 0
                        return {
                            "paid": True,
                            "receipt_id": receipt,
                            "amount": body.amount,
                            "active": subscription["active"],
                            "due_amount": due,
                        }
            raise HTTPException(404, "no subscription for that email")

        return store.once(key, fingerprint("/subscriptions/pay", body), act)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    import uvicorn

    token = os.environ.get("NORTHWIND_ACTIONS_TOKEN", "demo-token")
    uvicorn.run(create_actions_app(token), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
