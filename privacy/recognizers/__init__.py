"""Clearline's own recognizers, for what Presidio's defaults miss."""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer

from privacy.recognizers.address import AddressRecognizer
from privacy.recognizers.given_names import GivenNameRecognizer
from privacy.recognizers.names import NameRecognizer
from privacy.recognizers.numbers import NumberRecognizer


def clearline_recognizers() -> list[EntityRecognizer]:
    return [NumberRecognizer(), AddressRecognizer(), NameRecognizer(), GivenNameRecognizer()]
