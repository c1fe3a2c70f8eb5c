"""One real detector for the whole test session: loading spaCy and Presidio takes seconds."""

from __future__ import annotations

import pytest

from privacy.detect import PiiDetector


@pytest.fixture(scope="session")
def detector() -> PiiDetector:
    detector = PiiDetector()
    detector.warm_up()
    return detector
