"""Generate bench/data/pii_formats.jsonl: sentences with phone numbers, cards, IBANs, SSNs
and emails in the formats of the generator behind presidio-research's synthetic PII set.

    python3 -m venv /tmp/fakervenv && /tmp/fakervenv/bin/pip install faker
    /tmp/fakervenv/bin/python bench/pii_faker_corpus.py [--out bench/data/pii_formats.jsonl]

Needs Faker, which is NOT a project dependency: run it from a throwaway venv (as above). The
corpus it writes is checked in, so `bench/pii_formats.py` (which measures the detector on it)
needs nothing but the project. The output is deterministic for a given Faker version (seeded;
the first line of the file is a header naming the Faker version and the seed).

Why these formats. presidio-research builds its sentences from templates filled by Faker
(`PresidioSentenceFaker`): phone numbers come from its base person records (FakeNameGenerator,
30 countries; their number shapes are listed in `FNG_PHONE_SHAPES` below, digits replaced by
`#`) and from its own phone provider (US formats with dots, brackets, `x` extensions, `+1-` and
`001-` prefixes; UK `07700`/`+447700`; India `+91`; Swiss `+41 (0)`; Swedish `+46 (0)`; listed
in `PROVIDER_PHONE_FORMATS`); cards, IBANs, SSNs and emails come from Faker. On top of those,
Faker's own `phone_number()` of the locales of those 30 countries widens the formats seen.

The numbers are fresh random digits in those shapes and the sentences are this file's own
frames (customer-service messages and contact blocks, with and without a cue word such as
"call" or "Phone:"), so nothing here copies a record of the synthetic set: it measures whether
the detector knows the formats, not whether it remembers the records.

Output: one JSON object a line, `{"id", "text", "source", "spans": [{"start", "end",
"entity_type", "value"}]}`; `source` says where the value's format came from (e.g.
`faker:de_CH`, `fng:DK`, `provider`).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from faker import VERSION as FAKER_VERSION  # type: ignore[import-not-found, unused-ignore]
from faker import Faker  # type: ignore[import-not-found, unused-ignore]

OUT = Path(__file__).resolve().parent / "data" / "pii_formats.jsonl"
SEED = 20261201

# Telephone-number shapes of the FakeNameGenerator base records that presidio-research fills
# its templates from (country code, shape; `#` is a digit).
FNG_PHONE_SHAPES = (
    ("AT", "#### ### ## ##"), ("AU", "(##) #### ####"), ("BE", "#### ## ## ##"),
    ("BR", "(##) ####-####"), ("CA", "###-###-####"), ("CH", "### ### ## ##"),
    ("CY", "## ######"), ("CZ", "### ### ###"), ("DE", "### ## ## ##"),
    ("DE", "#### ## ## ##"), ("DE", "##### ## ## ##"), ("DE", "###### ## ##"),
    ("DK", "##-##-##-##"), ("EE", "### ####"), ("ES", "### ### ###"),
    ("FI", "### ### ####"), ("FR", "##.##.##.##.##"), ("GB", "### #### ####"),
    ("GL", "## ## ##"), ("HU", "(##) ###-###"), ("HU", "(##) ###-####"),
    ("HU", "(#) ###-####"), ("IS", "### ####"), ("IT", "#### #######"),
    ("NL", "##-########"), ("NO", "### ## ###"), ("NZ", "(###) ####-###"),
    ("PL", "## ### ## ##"), ("PT", "## ### ### ####"), ("SE", "####-#######"),
    ("SE", "###-#######"), ("SE", "##-#######"), ("SI", "###-###-###"),
    ("TN", "## ### ###"), ("US", "###-###-####"), ("UY", "#### ####"),
    ("ZA", "### ### ####"),
)  # fmt: skip
# National trunk prefixes of those countries: FakeNameGenerator numbers start with them.
FNG_LEADING = {"AT": "0", "AU": "0", "BE": "0", "CH": "0", "DE": "0", "FI": "0", "FR": "0",
               "GB": "0", "IT": "0", "NL": "0", "SE": "0", "SI": "0", "ZA": "0"}  # fmt: skip

# Formats of presidio-research's phone provider (US, UK, India, Switzerland, Sweden).
PROVIDER_PHONE_FORMATS = (
    "##########", "###-###-####", "###-#######",
    "07700 ### ###", "07700 ######", "07700######", "(07700) ### ###", "(07700) ######",
    "(07700)######", "+447700 ### ###", "+447700 ######", "+447700######",
    "+91##########", "0##########",
    "+41 %# ### ## ##", "+41 (0)%# ### ## ##",
    "+46 (0)8 ### ### ##", "+46 (0)## ## ## ##", "+46 (0)### ### ##",
    "(###)###-####", "###.###.####", "###-###-####x###", "###-###-####x####",
    "(###)###-####x###", "(###)###-####x####", "###.###.####x###", "###.###.####x####",
    "+1-###-###-####", "001-###-###-####", "+1-###-###-####x###",
)  # fmt: skip

# Faker locales of the base records' countries (and India, from the provider).
PHONE_LOCALES = (
    "en_US", "en_GB", "en_CA", "en_AU", "en_NZ", "en_IN", "de_DE", "de_AT", "de_CH", "fr_FR",
    "fr_CH", "nl_NL", "nl_BE", "it_IT", "es_ES", "pt_PT", "pt_BR", "da_DK", "no_NO", "sv_SE",
    "fi_FI", "pl_PL", "cs_CZ", "hu_HU", "sl_SI",
)  # fmt: skip
IBAN_LOCALES = ("en_US", "en_GB", "de_DE", "de_AT", "de_CH", "fr_FR", "nl_NL", "nl_BE",
                "it_IT", "es_ES", "pt_PT", "pl_PL", "fi_FI", "no_NO", "da_DK", "cs_CZ")  # fmt: skip
EMAIL_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "it_IT", "es_ES", "sv_SE")
CARD_TYPES = ("visa16", "visa13", "visa19", "mastercard", "amex", "discover", "diners",
              "jcb15", "jcb16", "maestro")  # fmt: skip

# Sentence frames. `{a}`, `{b}`, `{c}` are values of one type; `cued` frames have a word that
# names the value ("call", "Phone:"), `bare` ones do not. `[[TYPE:text]]` is fixed text
# labelled TYPE (so that finding it does not count against precision).
PHONE_FRAMES = {
    "cued": (
        "Call me at {a} after six.",
        "You can reach me on {a} during the day.",
        "My phone number is {a}, please update it.",
        "Phone: {a}",
        "Name: [[PERSON:Jo Smith]]\nPhone: {a}\nEmail: [[EMAIL_ADDRESS:jo@example.com]]",
        "Mobile: {a}\nDesk: {b}\nFax: {c}",
        "{a} office\n{b} fax\n{c} mobile",
        "{a}-Office, {b}-Fax",
        "{a}-Office,{b}-Fax",
        "Phones: {a};{b}",
        "Please text {a} when the parcel arrives.",
        "Tel. {a} (weekdays only)",
        "Contact number: {a}",
        "Can someone ring me back on {a}?",
    ),
    "bare": (
        "Nobody picks up at {a}, I tried three times.",
        "I changed my number to {a} last week.",
        "The messages still go to {a} instead of the new one.",
        "{a} is the number on my account.",
        "Is {a} still registered to my account?",
        "I did not get the code on {a}. Could you check?",
        "[[STREET_ADDRESS:12 Elm Street\nSpringfield 62704]]\n{a}",
    ),
}
OTHER_FRAMES = {
    "CREDIT_CARD": (
        "Please charge the card {a} instead.",
        "My card number is {a}, expiry 04/27.",
        "I paid with {a} and got charged twice.",
        "Card: {a}",
        "Refund it to {a} please.",
    ),
    "IBAN_CODE": (
        "Send the refund to IBAN {a}.",
        "My account is {a}, in my name.",
        "Please pay into {a} by Friday.",
        "IBAN: {a}",
        "Transfer it to {a} please.",
    ),
    "US_SSN": (
        "My social security number is {a}.",
        "SSN: {a}",
        "They asked for my SSN, it's {a}.",
        "Here is the number you wanted: {a}",
        "I entered {a} on the form by mistake.",
    ),
    "EMAIL_ADDRESS": (
        "Write to me at {a} please.",
        "Email: {a}",
        "My address changed to {a}.",
        "Send the invoice to {a} and copy my manager.",
        "{a} is the login I use.",
    ),
}


def _digits(shape: str, rng: random.Random, lead: str = "") -> str:
    """Fill `#` with random digits (and `%` with 1-9); `lead` replaces the first `#`."""
    out: list[str] = []
    for ch in shape:
        if ch == "#":
            out.append(lead or str(rng.randint(0, 9)))
            lead = ""
        elif ch == "%":
            out.append(str(rng.randint(1, 9)))
        else:
            out.append(ch)
    return "".join(out)


def phones(rng: random.Random, per_locale: int) -> Iterator[tuple[str, str]]:
    """(value, source) pairs: every provider format and base-record shape, and Faker samples."""
    for shape in PROVIDER_PHONE_FORMATS:
        for _ in range(3):
            yield _digits(shape, rng), "provider"
    for country, shape in FNG_PHONE_SHAPES:
        for _ in range(3):
            yield _digits(shape, rng, FNG_LEADING.get(country, "")), f"fng:{country}"
    for locale in PHONE_LOCALES:
        fake = Faker(locale)
        fake.seed_instance(rng.randint(0, 2**31))
        seen: set[str] = set()
        made = 0
        for tries in range(per_locale * 20):
            if made >= per_locale:
                break
            value = fake.phone_number()
            shape = re.sub(r"\d", "#", value)
            # New shapes first: a shape seen already only once new ones have stopped coming.
            if shape in seen and tries < per_locale * 10:
                continue
            seen.add(shape)
            made += 1
            yield value, f"faker:{locale}"


def others(rng: random.Random, per_type: int) -> Iterator[tuple[str, str, str]]:
    """(entity_type, value, source) for cards, IBANs, SSNs and emails."""
    fake = Faker("en_US")
    fake.seed_instance(rng.randint(0, 2**31))
    for i in range(per_type):
        card_type = CARD_TYPES[i % len(CARD_TYPES)]
        yield "CREDIT_CARD", fake.credit_card_number(card_type), f"faker:{card_type}"
    for i in range(per_type):
        locale = IBAN_LOCALES[i % len(IBAN_LOCALES)]
        local = Faker(locale)
        local.seed_instance(rng.randint(0, 2**31))
        yield "IBAN_CODE", local.iban(), f"faker:{locale}"
    for _ in range(per_type):
        yield "US_SSN", fake.ssn(), "faker:en_US"
    for i in range(per_type):
        locale = EMAIL_LOCALES[i % len(EMAIL_LOCALES)]
        local = Faker(locale)
        local.seed_instance(rng.randint(0, 2**31))
        maker: Callable[[], str] = rng.choice((local.email, local.free_email, local.company_email))
        yield "EMAIL_ADDRESS", maker(), f"faker:{locale}"


def fill(frame: str, values: list[str], entity_type: str) -> tuple[str, list[dict[str, object]]]:
    """The frame with its slots filled, and the gold span of each value and labelled text."""
    text = ""
    spans: list[dict[str, object]] = []
    pos = 0
    for m in re.finditer(r"\{([abc])\}|\[\[([A-Z_]+):([^\]]+)\]\]", frame):
        text += frame[pos : m.start()]
        if m.group(1):
            value, value_type = values["abc".index(m.group(1))], entity_type
        else:
            value, value_type = m.group(3), m.group(2)
        spans.append(
            {"start": len(text), "end": len(text) + len(value), "entity_type": value_type,
             "value": value}
        )  # fmt: skip
        text += value
        pos = m.end()
    return text + frame[pos:], spans


def build(per_locale: int, per_type: int, seed: int = SEED) -> list[dict[str, object]]:
    rng = random.Random(seed)
    records: list[dict[str, object]] = []
    phone_values = list(phones(rng, per_locale))
    frames = [(kind, f) for kind, fs in PHONE_FRAMES.items() for f in fs]
    i = 0
    while i < len(phone_values):
        kind, frame = frames[len(records) % len(frames)]
        slots = len(set(re.findall(r"\{([abc])\}", frame)))
        chunk = phone_values[i : i + slots]
        if len(chunk) < slots:
            kind, frame, slots = "cued", PHONE_FRAMES["cued"][0], 1
            chunk = chunk[:1]
        text, spans = fill(frame, [v for v, _ in chunk], "PHONE_NUMBER")
        sources = sorted({s for _, s in chunk})
        records.append({"id": f"phone-{len(records)}", "text": text, "frame": kind,
                        "source": ",".join(sources), "spans": spans})  # fmt: skip
        i += slots
    for n, (entity_type, value, source) in enumerate(others(rng, per_type)):
        frame = OTHER_FRAMES[entity_type][n % len(OTHER_FRAMES[entity_type])]
        text, spans = fill(frame, [value], entity_type)
        records.append({"id": f"{entity_type.lower()}-{n}", "text": text, "frame": "mixed",
                        "source": source, "spans": spans})  # fmt: skip
    return records


# Locales whose given names go into privacy/data/given_names.txt (`--given-names`).
NAME_LOCALES = (*PHONE_LOCALES, "hr_HR", "et_EE", "en_IE")
GIVEN_NAMES = Path(__file__).resolve().parent.parent / "privacy" / "data" / "given_names.txt"
ENGLISH_WORDS = GIVEN_NAMES.parent / "english_words.txt"
WORD_SURNAMES = GIVEN_NAMES.parent / "word_surnames.txt"


def name_providers() -> list[type]:
    """The person providers of NAME_LOCALES (en_AU and en_CA have none of their own)."""
    import importlib

    providers = []
    for locale in NAME_LOCALES:
        try:
            providers.append(importlib.import_module(f"faker.providers.person.{locale}").Provider)
        except ModuleNotFoundError:
            continue
    return providers


def given_names() -> list[str]:
    """Faker's given names of NAME_LOCALES (and Japanese romanised ones), at least three
    letters long, less those that are English words ("Will", "Grace", "Destiny")."""
    import importlib

    names: set[str] = set()
    for provider in name_providers():
        for attribute in ("first_names", "first_names_male", "first_names_female"):
            names.update(getattr(provider, attribute, ()))
    japanese = importlib.import_module("faker.providers.person.ja_JP").Provider
    names.update(getattr(japanese, "first_romanized_names", ()))
    common = {
        line.split("#", 1)[0].strip().lower()
        for line in ENGLISH_WORDS.read_text(encoding="utf-8").splitlines()
    }
    return sorted(
        n for n in names if len(n) >= 3 and n.replace("-", "").isalpha() and n.lower() not in common
    )


def word_surnames() -> list[str]:
    """Faker's family names of NAME_LOCALES that are also English words ("Young", "King")."""
    names: set[str] = set()
    for provider in name_providers():
        for attribute in ("last_names", "last_names_male", "last_names_female"):
            names.update(getattr(provider, attribute, ()))
    common = {
        line.split("#", 1)[0].strip().lower()
        for line in ENGLISH_WORDS.read_text(encoding="utf-8").splitlines()
    }
    return sorted(n for n in names if len(n) >= 3 and n.isalpha() and n.lower() in common)


def write_given_names(path: Path) -> None:
    names = given_names()
    header = (
        "# Given names: Faker's person providers (MIT, Faker "
        f"{FAKER_VERSION}) of {len(name_providers())} locales and Japanese romanised names,\n"
        "# less English words. Written by bench/pii_faker_corpus.py --given-names.\n"
    )
    path.write_text(header + "\n".join(names) + "\n", encoding="utf-8")
    print(f"wrote {len(names)} given names to {path}")
    surnames = word_surnames()
    header = (
        f"# Family names that are English words: Faker's person providers (MIT, Faker "
        f"{FAKER_VERSION}),\n# {len(name_providers())} locales. Written by "
        "bench/pii_faker_corpus.py --given-names.\n"
    )
    WORD_SURNAMES.write_text(header + "\n".join(surnames) + "\n", encoding="utf-8")
    print(f"wrote {len(surnames)} family names to {WORD_SURNAMES}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--per-locale", type=int, default=16, help="Faker phones per locale")
    parser.add_argument("--per-type", type=int, default=120, help="cards, IBANs, SSNs, emails")
    parser.add_argument("--seed", type=int, default=SEED, help="another seed: a fresh corpus")
    parser.add_argument(
        "--given-names",
        action="store_true",
        help=f"write {GIVEN_NAMES.name} and {WORD_SURNAMES.name} instead",
    )
    args = parser.parse_args()
    if args.given_names:
        write_given_names(GIVEN_NAMES)
        return
    records = build(args.per_locale, args.per_type, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "faker_version": FAKER_VERSION,
        "seed": args.seed,
        "generator": "bench/pii_faker_corpus.py",
    }
    with args.out.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"header": header}, ensure_ascii=False) + "\n")
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} records to {args.out} (Faker {FAKER_VERSION})")


if __name__ == "__main__":
    main()
