from fastapi import APIRouter

from service.schemas import Health
from service.version import VERSION

router = APIRouter(tags=["health"])


@router.get("/v1/health", response_model=Health)
def health() -> Health:
    """Liveness: answers without a key."""
    return Health(status="ok", version=VERSION)
