"""Personal data: detection (Presidio plus Clearline's recognizers) and typed redaction.

Imports only `agent` and `knowledge` (never `service`): the service wires the detector into
masking before external models, redaction suggestions and redaction at ingestion.
"""

from privacy.detect import PiiDetector
from privacy.redact import placeholder, redact
from privacy.spans import ENTITY_TYPES, Span

__all__ = ["ENTITY_TYPES", "PiiDetector", "Span", "placeholder", "redact"]
