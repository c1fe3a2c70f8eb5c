"""One router for every console route (registered in service/app.py)."""

from __future__ import annotations

from fastapi import APIRouter

from service.ui import admin, chat, inbox, login, qa

router = APIRouter()
for module in (login, chat, admin, inbox, qa):
    router.include_router(module.router)
