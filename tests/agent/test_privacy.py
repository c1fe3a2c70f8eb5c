"""PiiMasker on realistic customer messages: each kind, placeholders, and the round trip."""

from __future__ import annotations

import random

import pytest

from agent.llm.masking import PiiMapping, PiiMasker, PiiSpan, iban_valid, luhn_valid


@pytest.fixture(scope="module")
def masker() -> PiiMasker:
    masker = PiiMasker()
    masker.warm_up()
    return masker


@pytest.fixture(scope="module")
def patterns() -> PiiMasker:
    return PiiMasker(detect_names=False)


def kinds(spans: list[PiiSpan]) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in spans]


def test_spans_point_into_the_text(masker: PiiMasker) -> None:
    text = "Hi, this is Daniel Okafor, write to d.okafor@mail.example.net please."
    spans = masker.find(text)
    assert kinds(spans) == [("PERSON", "Daniel Okafor"), ("EMAIL", "d.okafor@mail.example.net")]
    assert all(text[s.start : s.end] == s.text for s in spans)


@pytest.mark.parametrize(
    "text, email",
    [
        ("You can reach me at anna.k+orders@shop-mail.co.uk.", "anna.k+orders@shop-mail.co.uk"),
        ("My login is JOHN_DOE42@EXAMPLE.COM, I forgot the password", "JOHN_DOE42@EXAMPLE.COM"),
    ],
)
def test_emails(patterns: PiiMasker, text: str, email: str) -> None:
    assert kinds(patterns.find(text)) == [("EMAIL", email)]


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+1 (415) 555-0132",
        "+41 (0)62 585 51 90",
        "+4915123456789",
        "020 7946 0958",
        "(415) 555-0132",
        "415-555-0132",
        "415.555.0132",
        "06 12 34 56 78",
        "07700 900123",
        "(898) 666-3621 x0135",
    ],
)
def test_phone_numbers_in_international_and_national_formats(
    patterns: PiiMasker, phone: str
) -> None:
    text = f"Please call me back on {phone} after 5pm."
    assert kinds(patterns.find(text)) == [("PHONE", phone)]


@pytest.mark.parametrize(
    "text",
    [
        "I ordered 3 items for 25 euros on 2024-03-15 at 10:30.",
        "The invoice from 12.05.2023 says 1.500.000 units.",
        "Our server at 192.168.10.254 was down between 2019-2020.",
        "Flight LH 400 leaves at 14:05, gate 22.",
    ],
)
def test_dates_amounts_and_addresses_are_not_personal_numbers(
    patterns: PiiMasker, text: str
) -> None:
    assert patterns.find(text) == []


def test_payment_cards_are_luhn_checked(patterns: PiiMasker) -> None:
    text = (
        "I paid with 4111 1111 1111 1111, then with 3782-822463-10005 (Amex) "
        "and my other card 5500000000000004."
    )
    assert kinds(patterns.find(text)) == [
        ("CARD", "4111 1111 1111 1111"),
        ("CARD", "3782-822463-10005"),
        ("CARD", "5500000000000004"),
    ]


def test_random_16_digit_numbers_are_cards_only_when_luhn_valid(patterns: PiiMasker) -> None:
    rng = random.Random(7)
    numbers = ["".join(rng.choice("0123456789") for _ in range(16)) for _ in range(300)]
    invalid = [n for n in numbers if not luhn_valid(n)]
    assert 200 < len(invalid) < 300  # about 90% of random numbers fail the checksum
    for number in numbers:
        for shown in (number, " ".join(number[i : i + 4] for i in range(0, 16, 4))):
            spans = patterns.find(f"The reference is {shown}, thanks.")
            assert kinds(spans) == [("CARD" if luhn_valid(number) else "ACCOUNT", shown)]


def test_ibans_are_checksum_validated(patterns: PiiMasker) -> None:
    text = "Refund to DE89 3704 0044 0532 0130 00 please, or to GB82WEST12345698765432."
    assert kinds(patterns.find(text)) == [
        ("IBAN", "DE89 3704 0044 0532 0130 00"),
        ("IBAN", "GB82WEST12345698765432"),
    ]
    assert not iban_valid("DE88 3704 0044 0532 0130 00")
    wrong = patterns.find("Refund to DE88 3704 0044 0532 0130 00 please")
    assert "IBAN" not in {s.kind for s in wrong}


@pytest.mark.parametrize(
    "text, number",
    [
        ("My order number is 20231187345 and it never arrived.", "20231187345"),
        ("Account 0012-3456-78 is locked.", "0012-3456-78"),
        ("My SSN is 078-05-1120.", "078-05-1120"),
    ],
)
def test_account_and_id_numbers(patterns: PiiMasker, text: str, number: str) -> None:
    assert kinds(patterns.find(text)) == [("ACCOUNT", number)]


def test_bare_digit_runs_are_phones_only_in_phone_context(patterns: PiiMasker) -> None:
    assert kinds(patterns.find("Text me on 4155550132.")) == [("PHONE", "4155550132")]
    assert kinds(patterns.find("Parcel 4155550132 is late.")) == [("ACCOUNT", "4155550132")]


@pytest.mark.parametrize(
    "text, name",
    [
        ("Hello, my name is Priya Raman and I need help with my bill.", "Priya Raman"),
        ("Could you ask Mr. Jonathan Miller to call me back?", "Jonathan Miller"),
        ("The parcel was signed for by Lucas Fernández yesterday.", "Lucas Fernández"),
    ],
)
def test_person_names(masker: PiiMasker, text: str, name: str) -> None:
    assert kinds(masker.find(text)) == [("PERSON", name)]


def test_names_typed_in_lower_case_after_my_name_is(masker: PiiMasker) -> None:
    spans = masker.find("hi, my name is tomasz wojcik and I can't log in. Call me back?")
    assert kinds(spans) == [("PERSON", "tomasz wojcik")]


def test_same_value_same_placeholder_across_messages(masker: PiiMasker) -> None:
    mapping = PiiMapping()
    first, _ = masker.mask("I'm Emma Larsen, emma.larsen@example.com.", mapping)
    second, _ = masker.mask(
        "Again: emma.larsen@example.com, and my colleague is olaf@example.com.", mapping
    )
    assert first == "I'm <PERSON_1>, <EMAIL_1>."
    assert second == "Again: <EMAIL_1>, and my colleague is <EMAIL_2>."
    assert dict(mapping.items()) == {
        "<PERSON_1>": "Emma Larsen",
        "<EMAIL_1>": "emma.larsen@example.com",
        "<EMAIL_2>": "olaf@example.com",
    }
    restored = masker.restore("Dear <PERSON_1>, we wrote to <EMAIL_2> and <EMAIL_9>.", mapping)
    assert restored == "Dear Emma Larsen, we wrote to olaf@example.com and <EMAIL_9>."


ROUND_TRIP = [
    "Hi, I'm Carlos Mendes. My card 4111-1111-1111-1111 was charged twice on 2024-02-01.",
    "Call +33 6 12 34 56 78 or write to c.mendes@example.fr; IBAN FR14 2004 1010 0505 0001 "
    "3M02 606.",
    "Order 98765432101 for Aisha Khan never arrived. Her number is (212) 555-0199.",
    "Nothing personal here: how do I change my delivery address?",
    "A literal <EMAIL_1> in the text and a real one: bob@example.com",
    "",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_mask_then_restore_is_the_identity(masker: PiiMasker, text: str) -> None:
    masked, mapping = masker.mask(text)
    assert masker.restore(masked, mapping) == text
    for _placeholder, value in mapping.items():
        assert value not in masked


def test_a_literal_placeholder_is_never_reused(masker: PiiMasker) -> None:
    masked, mapping = masker.mask("A literal <EMAIL_1> and a real one: bob@example.com")
    assert masked == "A literal <EMAIL_1> and a real one: <EMAIL_2>"
    assert mapping.original("<EMAIL_1>") is None


def test_names_can_be_switched_off(patterns: PiiMasker) -> None:
    assert patterns.find("Please forward this to Sarah Connor.") == []
