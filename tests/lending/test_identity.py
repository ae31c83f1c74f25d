"""lending.identity: PRC resident IDs (GB 11643-1999) and mainland mobile numbers. No database."""

import datetime
import pickle

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lending.identity import (
    IdentityError,
    NationalId,
    generate_national_id,
    mask_mobile,
    mask_national_id,
    national_id_checksum,
    normalize_mobile,
    parse_national_id,
)

TODAY = datetime.date(2025, 6, 1)

# Each checked by hand against ISO 7064 MOD 11-2 (see `iso7064_valid` below).
KNOWN_VALID = [
    # The sample printed in GB 11643-1999 and countless tutorials.
    ("11010519491231002X", datetime.date(1949, 12, 31), "F", "110105"),
    ("110101199003074477", datetime.date(1990, 3, 7), "M", "110101"),
    ("440308199901101512", datetime.date(1999, 1, 10), "M", "440308"),
]


def iso7064_valid(number: str) -> bool:
    """Independent check: with weights 2**(17-i) mod 11 over all 18 characters (X = 10), a valid
    ISO 7064 MOD 11-2 number sums to 1 mod 11."""
    values = [10 if c == "X" else int(c) for c in number]
    return sum(v * pow(2, 17 - i, 11) for i, v in enumerate(values)) % 11 == 1


def with_checksum(first17: str) -> str:
    return first17 + national_id_checksum(first17)


def error_for(raw: str, **kwargs) -> IdentityError:
    with pytest.raises(IdentityError) as excinfo:
        parse_national_id(raw, **kwargs)
    assert excinfo.value.field == "national_id"
    return excinfo.value


# --- national ID: valid numbers -----------------------------------------------------------------


@pytest.mark.parametrize(("number", "born", "sex", "region"), KNOWN_VALID)
def test_known_valid_ids_parse(number, born, sex, region):
    assert iso7064_valid(number)
    assert parse_national_id(number, today=TODAY) == NationalId(
        number=number, date_of_birth=born, sex=sex, region_code=region
    )


@pytest.mark.parametrize(("number", "_born", "_sex", "_region"), KNOWN_VALID)
def test_checksum_of_known_ids(number, _born, _sex, _region):
    assert national_id_checksum(number[:17]) == number[17]


def test_published_sample_details():
    parsed = parse_national_id("11010519491231002X", today=TODAY)
    assert parsed.number[-1] == "X"
    assert parsed.date_of_birth == datetime.date(1949, 12, 31)
    assert parsed.sex == "F"
    assert parsed.province_code == "11"


def test_lowercase_x_accepted_and_canonicalised():
    assert parse_national_id("11010519491231002x", today=TODAY).number == "11010519491231002X"


def test_whitespace_is_ignored():
    parsed = parse_national_id("  110105 19491231 002x\t", today=TODAY)
    assert parsed.number == "11010519491231002X"


def test_default_today_accepts_a_past_birth_date():
    assert parse_national_id("110101199003074477").date_of_birth == datetime.date(1990, 3, 7)


def test_sex_comes_from_the_17th_digit():
    odd = with_checksum("1101011990030700" + "7")
    even = with_checksum("1101011990030700" + "0")
    assert parse_national_id(odd, today=TODAY).sex == "M"
    assert parse_national_id(even, today=TODAY).sex == "F"


def test_leap_day_accepted_in_a_leap_year():
    number = with_checksum("11010120000229001")
    assert parse_national_id(number, today=TODAY).date_of_birth == datetime.date(2000, 2, 29)


def test_born_today_is_not_future():
    number = generate_national_id(date_of_birth=TODAY, sex="M")
    assert parse_national_id(number, today=TODAY).date_of_birth == TODAY


@pytest.mark.parametrize(
    "province", ["11", "15", "21", "37", "46", "50", "65", "71", "81", "83", "91"]
)
def test_every_listed_province_kind_is_accepted(province):
    number = with_checksum(f"{province}010119900307001")
    assert parse_national_id(number, today=TODAY).region_code == f"{province}0101"


def test_age_on():
    parsed = parse_national_id("110101199003074477", today=TODAY)
    assert parsed.age_on(datetime.date(2008, 3, 6)) == 17
    assert parsed.age_on(datetime.date(2008, 3, 7)) == 18


# --- national ID: rejections --------------------------------------------------------------------


def test_wrong_checksum_names_the_expected_character():
    error = error_for("110105194912310021", today=TODAY)
    assert "checksum" in error.message
    assert "should be X" in str(error)


def test_wrong_checksum_digit_expected():
    error = error_for("110101199003074478", today=TODAY)
    assert "should be 7" in error.message


@pytest.mark.parametrize(
    ("first17", "shown"),
    [
        ("11010119900230001", "1990-02-30"),  # February 30th
        ("11010119000229001", "1900-02-29"),  # 1900 was not a leap year
        ("11010119901301001", "1990-13-01"),
        ("11010119900100001", "1990-01-00"),
    ],
)
def test_impossible_date_rejected(first17, shown):
    error = error_for(with_checksum(first17), today=TODAY)
    assert "not a real date" in error.message
    assert shown in error.message


def test_future_birth_date_rejected():
    number = generate_national_id(date_of_birth=datetime.date(2030, 1, 1), sex="F")
    error = error_for(number, today=TODAY)
    assert "future" in error.message
    # ...and the same number is fine once that day has come.
    assert parse_national_id(number, today=datetime.date(2030, 1, 1)).sex == "F"


def test_default_today_rejects_a_far_future_date():
    number = with_checksum("11010130000101001")
    assert "future" in error_for(number).message


def test_birth_before_1900_rejected():
    error = error_for(with_checksum("11010118991231001"), today=TODAY)
    assert "before 1900" in error.message


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002",  # 17
        "11010519491231002X1",  # 19
        "110105491231002",  # the old 15-digit format
        "1",
    ],
)
def test_wrong_length_rejected(raw):
    error = error_for(raw, today=TODAY)
    assert "18 characters" in error.message
    assert f"got {len(raw)}" in error.message


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_missing_rejected(raw):
    assert "required" in error_for(raw, today=TODAY).message


@pytest.mark.parametrize(
    "raw",
    [
        "1101051949123100AX",
        "X10105194912310021",
        "11010519491231002Y",
        "11010519491231002-",
        "１10105194912310021",  # full-width digit one
        "11010519491231002\u0663",  # Arabic-Indic digit three
    ],
)
def test_non_digit_rejected(raw):
    error = error_for(raw, today=TODAY)
    assert "digit" in error.message


@pytest.mark.parametrize(
    "province", ["00", "01", "10", "16", "20", "24", "38", "47", "55", "66", "72", "84", "92", "99"]
)
def test_bad_province_rejected(province):
    error = error_for(with_checksum(f"{province}010119900307001"), today=TODAY)
    assert "province" in error.message


# --- national ID: properties --------------------------------------------------------------------

birth_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY)
sexes = st.sampled_from(["M", "F"])
sequences = st.integers(min_value=0, max_value=99)
regions = st.sampled_from(["110101", "110105", "310115", "440308", "510107", "650102", "820000"])


@given(born=birth_dates, sex=sexes, sequence=sequences, region=regions)
def test_generated_ids_parse_back(born, sex, sequence, region):
    number = generate_national_id(
        date_of_birth=born, sex=sex, region_code=region, sequence=sequence
    )
    assert len(number) == 18
    assert iso7064_valid(number)
    assert number[14:16] == f"{sequence:02d}"
    parsed = parse_national_id(number, today=TODAY)
    assert (parsed.number, parsed.date_of_birth, parsed.sex, parsed.region_code) == (
        number,
        born,
        sex,
        region,
    )


@given(
    born=birth_dates,
    sex=sexes,
    sequence=sequences,
    position=st.integers(min_value=0, max_value=16),
    new_digit=st.sampled_from("0123456789"),
)
def test_any_single_digit_change_is_rejected(born, sex, sequence, position, new_digit):
    number = generate_national_id(date_of_birth=born, sex=sex, sequence=sequence)
    assume(number[position] != new_digit)
    mutated = number[:position] + new_digit + number[position + 1 :]
    with pytest.raises(IdentityError) as excinfo:
        parse_national_id(mutated, today=TODAY)
    assert excinfo.value.field == "national_id"
    assert any(
        word in excinfo.value.message
        for word in ("checksum", "province", "not a real date", "future", "before 1900")
    )


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_checksum_satisfies_iso7064(first17):
    check = national_id_checksum(first17)
    assert check in "0123456789X"
    assert iso7064_valid(first17 + check)


@pytest.mark.parametrize("bad", ["", "1234567890123456", "123456789012345678", "1101051949123100X"])
def test_checksum_needs_17_digits(bad):
    with pytest.raises(ValueError, match="17 digits"):
        national_id_checksum(bad)


def test_generate_varies_with_sequence_and_sex():
    born = datetime.date(1985, 7, 1)
    numbers = {
        generate_national_id(date_of_birth=born, sex=sex, sequence=seq)
        for sex in ("M", "F")
        for seq in range(100)
    }
    assert len(numbers) == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sex": "X"},
        {"sex": "m"},
        {"region_code": "11010"},
        {"region_code": "000101"},
        {"sequence": -1},
        {"sequence": 100},
        {"sequence": True},
        {"date_of_birth": datetime.date(1899, 12, 31)},
        {"date_of_birth": "1990-01-01"},
    ],
)
def test_generate_rejects_bad_arguments(kwargs):
    arguments = {"date_of_birth": datetime.date(1990, 1, 1), "sex": "M"} | kwargs
    with pytest.raises(ValueError):
        generate_national_id(**arguments)


# --- IdentityError ------------------------------------------------------------------------------


def test_identity_error_is_a_value_error_with_field_and_message():
    error = IdentityError("national ID is required", field="national_id")
    assert isinstance(error, ValueError)
    assert error.field == "national_id"
    assert str(error) == error.message == "national ID is required"


def test_identity_error_survives_pickling():
    error = IdentityError("bad phone", field="phone")
    clone = pickle.loads(pickle.dumps(error))
    assert (type(clone), clone.field, clone.message) == (IdentityError, "phone", "bad phone")


# --- mobile numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 13800138000",
        "+86-138-0013-8000",
        "+8613800138000",
        "0086 13800138000",
        "008613800138000",
        "8613800138000",
        "86 138 0013 8000",
        "  13800138000\n",
    ],
)
def test_mobile_accepted_forms(raw):
    assert normalize_mobile(raw) == "13800138000"


@pytest.mark.parametrize("second", "3456789")
def test_mobile_second_digit_three_to_nine(second):
    number = f"1{second}912345678"
    assert normalize_mobile(number) == number


def mobile_error(raw, **kwargs) -> IdentityError:
    with pytest.raises(IdentityError) as excinfo:
        normalize_mobile(raw, **kwargs)
    return excinfo.value


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("1380013800", "11 digits, got 10"),  # too short
        ("138001380001", "11 digits, got 12"),  # too long
        ("12800138000", "13-19"),  # starts with 12
        ("10800138000", "13-19"),
        ("23800138000", "13-19"),
        ("138OO138000", "only digits"),  # letters O, not zeros
        ("138 0013 800a", "only digits"),
        ("１３８００１３８０００", "only digits"),  # full-width digits
        ("+1 415 555 0100", "+86"),
        ("+852 91234567", "+86"),
        ("", "required"),
        (" - ", "required"),
        (None, "required"),
    ],
)
def test_mobile_rejections(raw, words):
    error = mobile_error(raw)
    assert error.field == "mobile"
    assert words in error.message


def test_mobile_error_uses_callers_field():
    error = mobile_error("12345", field="phone")
    assert error.field == "phone"
    assert "11 digits" in str(error)


@given(
    rest=st.text(alphabet="0123456789", min_size=9, max_size=9),
    second=st.sampled_from("3456789"),
    prefix=st.sampled_from(["", "+86", "+86 ", "0086", "0086 ", "86", "86-"]),
    sep=st.sampled_from(["", " ", "-"]),
)
def test_mobile_any_formatting_normalizes(rest, second, prefix, sep):
    number = f"1{second}{rest}"
    formatted = prefix + sep.join([number[:3], number[3:7], number[7:]])
    assert normalize_mobile(formatted) == number


# --- masking ------------------------------------------------------------------------------------


def test_mask_national_id():
    assert mask_national_id("110101199003071234") == "110101********1234"
    assert mask_national_id("11010519491231002X") == "110105********002X"


@pytest.mark.parametrize("empty", ["", None])
def test_masks_tolerate_empty(empty):
    assert mask_national_id(empty) == ""
    assert mask_mobile(empty) == ""


def test_mask_mobile():
    assert mask_mobile("13800138000") == "138****8000"
    assert mask_mobile("+86 138-0013-8000") == "138****8000"


def test_masks_never_reveal_short_values_whole():
    assert mask_national_id("1234567890") == "**********"
    assert mask_mobile("1234567") == "*******"
    assert mask_mobile("12345678") == "123*5678"
