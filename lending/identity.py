"""Chinese borrower identity data: resident ID numbers and mobile numbers. No Django import.

* National ID: the 18-character PRC resident identity number of GB 11643-1999 -- a six-digit
  GB/T 2260 region code, the birth date as YYYYMMDD, a three-digit sequence whose last digit
  carries the sex (odd = male, even = female), and an ISO 7064 MOD 11-2 check character
  (0-9 or X).
* Mobile: a mainland China mobile number, 11 digits, ``1`` then ``3``-``9``, with or without
  the +86 / 0086 / 86 country prefix.

Every validation failure raises `IdentityError`, a ValueError carrying the form field it belongs
to and a message fit to show a user.
"""

import datetime
import functools
import re
from dataclasses import dataclass

from lending.i18n import gettext_noop

__all__ = [
    "PROVINCE_CODES",
    "IdentityError",
    "NationalId",
    "generate_national_id",
    "mask_mobile",
    "mask_national_id",
    "national_id_checksum",
    "normalize_mobile",
    "parse_national_id",
]

NATIONAL_ID_LENGTH = 18
# ISO 7064 MOD 11-2 as specified by GB 11643-1999: weight i is 2**(17 - i) mod 11.
CHECKSUM_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECKSUM_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
EARLIEST_BIRTH_YEAR = 1900

# First two digits of a GB/T 2260 administrative division code (province level).
PROVINCE_CODES = frozenset(
    {
        *(f"{n}" for n in range(11, 16)),  # 11-15 Beijing .. Inner Mongolia
        *(f"{n}" for n in range(21, 24)),  # 21-23 Liaoning .. Heilongjiang
        *(f"{n}" for n in range(31, 38)),  # 31-37 Shanghai .. Shandong
        *(f"{n}" for n in range(41, 47)),  # 41-46 Henan .. Hainan
        *(f"{n}" for n in range(50, 55)),  # 50-54 Chongqing .. Tibet
        *(f"{n}" for n in range(61, 66)),  # 61-65 Shaanxi .. Xinjiang
        "71",  # Taiwan
        "81",  # Hong Kong
        "82",  # Macao
        "83",  # residence permits for Hong Kong, Macao and Taiwan residents
        "91",  # residence permits for foreigners
    }
)

# China has kept UTC+8 without daylight saving since 1991: "today" for a birth date is Beijing's.
CHINA_TZ = datetime.timezone(datetime.timedelta(hours=8), "CST")

_DIGITS_17 = re.compile(r"[0-9]{17}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS = re.compile(r"[\s\-]+")


class IdentityError(ValueError):
    """Invalid identity data. `field` names the input ("national_id", "mobile", ...);
    `message` (also ``str(error)``) is a human sentence fit for a form or API response, in
    English; `template` % `params` is the same sentence, for the Django side to translate
    (`lending.errors.translated`)."""

    def __init__(self, message: str, *, field: str, params: dict | None = None) -> None:
        self.template = message
        self.params = params or {}
        self.message = message % self.params if params else message
        super().__init__(self.message)
        self.field = field

    def __reduce__(self):  # keep the keyword-only arguments across pickling (Celery results)
        return (
            functools.partial(type(self), field=self.field, params=self.params),
            (self.template,),
        )

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, field={self.field!r})"


@dataclass(frozen=True)
class NationalId:
    """A parsed, valid resident ID. `number` is the canonical 18 characters (upper-case X)."""

    number: str
    date_of_birth: datetime.date
    sex: str  # "M" or "F"
    region_code: str  # six digits, GB/T 2260

    @property
    def province_code(self) -> str:
        return self.region_code[:2]

    def age_on(self, on: datetime.date) -> int:
        """Completed years of age on the given date (a 29 February birthday counts on 1 March)."""
        years = on.year - self.date_of_birth.year
        if (on.month, on.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years


def national_id_checksum(first17: str) -> str:
    """The check character ("0"-"9" or "X") for the first 17 digits of a resident ID."""
    if not isinstance(first17, str) or not _DIGITS_17.fullmatch(first17):
        raise ValueError(
            f"need exactly 17 digits to compute a national ID checksum, got {first17!r}"
        )
    total = sum(
        int(digit) * weight for digit, weight in zip(first17, CHECKSUM_WEIGHTS, strict=True)
    )
    return CHECKSUM_CHARS[total % 11]


def _china_today() -> datetime.date:
    return datetime.datetime.now(CHINA_TZ).date()


def parse_national_id(raw: str, *, today: datetime.date | None = None) -> NationalId:
    """Validate an 18-character resident ID and return its parts.

    Whitespace anywhere is ignored and a trailing lower-case x is accepted. The birth date must be
    a real date between 1900-01-01 and `today` (default: today in China). Raises IdentityError
    with field="national_id" naming the first problem found.
    """

    def fail(message: str, **params) -> IdentityError:
        return IdentityError(message, field="national_id", params=params)

    if raw is None:
        raise fail(gettext_noop("national ID is required"))
    if not isinstance(raw, str):
        raise fail(gettext_noop("national ID must be text, not %(type)s"), type=type(raw).__name__)
    number = "".join(raw.split())
    if not number:
        raise fail(gettext_noop("national ID is required"))
    if len(number) != NATIONAL_ID_LENGTH:
        raise fail(
            gettext_noop("national ID must have %(length)s characters, got %(got)s"),
            length=NATIONAL_ID_LENGTH,
            got=len(number),
        )
    number = number[:17] + number[17].upper()
    first17, check = number[:17], number[17]
    if not _DIGITS_17.fullmatch(first17):
        raise fail(gettext_noop("national ID must be 17 digits followed by a digit or X"))
    if check not in "0123456789X":
        raise fail(gettext_noop("national ID must end in a digit or X, not %(check)r"), check=check)

    region_code = first17[:6]
    if region_code[:2] not in PROVINCE_CODES:
        raise fail(
            gettext_noop(
                "national ID region code %(region)s does not start with a valid province code"
            ),
            region=region_code,
        )

    birth = first17[6:14]
    try:
        date_of_birth = datetime.date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        raise fail(
            gettext_noop("national ID birth date %(date)s is not a real date"),
            date=f"{birth[:4]}-{birth[4:6]}-{birth[6:8]}",
        ) from None
    if date_of_birth.year < EARLIEST_BIRTH_YEAR:
        raise fail(
            gettext_noop("national ID birth date %(date)s is before %(year)s"),
            date=date_of_birth.isoformat(),
            year=EARLIEST_BIRTH_YEAR,
        )
    if today is None:
        today = _china_today()
    if date_of_birth > today:
        raise fail(
            gettext_noop("national ID birth date %(date)s is in the future"),
            date=date_of_birth.isoformat(),
        )

    expected = national_id_checksum(first17)
    if check != expected:
        raise fail(
            gettext_noop(
                "national ID checksum is wrong: the last character should be %(expected)s, "
                "not %(check)s"
            ),
            expected=expected,
            check=check,
        )

    sex = "M" if int(first17[16]) % 2 else "F"
    return NationalId(number=number, date_of_birth=date_of_birth, sex=sex, region_code=region_code)


def generate_national_id(
    *,
    date_of_birth: datetime.date,
    sex: str,
    region_code: str = "110101",
    sequence: int = 1,
) -> str:
    """A valid resident ID for demo data and test factories.

    `sequence` (0-99) becomes digits 15-16; digit 17 is odd for "M" and even for "F". Distinct
    (date_of_birth, sex, region_code, sequence) give distinct numbers. A birth date in the future
    is allowed here, but `parse_national_id` will reject the result until that date arrives.
    Bad arguments are programming errors and raise plain ValueError.
    """
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    if not (isinstance(region_code, str) and re.fullmatch(r"[0-9]{6}", region_code)):
        raise ValueError(f"region_code must be six digits, got {region_code!r}")
    if region_code[:2] not in PROVINCE_CODES:
        raise ValueError(f"region_code {region_code} does not start with a valid province code")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence <= 99:
        raise ValueError(f"sequence must be an integer from 0 to 99, got {sequence!r}")
    if isinstance(date_of_birth, datetime.datetime) or not isinstance(date_of_birth, datetime.date):
        raise ValueError(f"date_of_birth must be a date, got {date_of_birth!r}")
    if date_of_birth.year < EARLIEST_BIRTH_YEAR:
        raise ValueError(f"date_of_birth must be in {EARLIEST_BIRTH_YEAR} or later")
    # Vary the sex digit with the sequence so demo numbers do not all look alike.
    sex_digit = 2 * (sequence % 5) + (1 if sex == "M" else 0)
    first17 = f"{region_code}{date_of_birth:%Y%m%d}{sequence:02d}{sex_digit}"
    return first17 + national_id_checksum(first17)


def normalize_mobile(raw: str, *, field: str = "mobile") -> str:
    """Return a mainland China mobile number as its 11 national digits ("13800138000").

    Accepts spaces and hyphens as separators and a +86, 0086 or 86 country prefix. Raises
    IdentityError with the given `field` (default "mobile") when the number is not valid.
    """

    def fail(message: str, **params) -> IdentityError:
        return IdentityError(message, field=field, params=params)

    if raw is None:
        raise fail(gettext_noop("mobile number is required"))
    if not isinstance(raw, str):
        raise fail(
            gettext_noop("mobile number must be text, not %(type)s"), type=type(raw).__name__
        )
    number = _MOBILE_SEPARATORS.sub("", raw)
    if not number:
        raise fail(gettext_noop("mobile number is required"))
    if number.startswith("+"):
        if not number.startswith("+86"):
            raise fail(gettext_noop("only mainland China mobile numbers (+86) are accepted"))
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif len(number) == 13 and number.startswith("86"):
        number = number[2:]
    if not number.isascii() or not number.isdigit():
        raise fail(
            gettext_noop("mobile number may contain only digits, spaces, hyphens and a +86 prefix")
        )
    if len(number) != 11:
        raise fail(gettext_noop("mobile number must have 11 digits, got %(got)s"), got=len(number))
    if not _MOBILE.fullmatch(number):
        raise fail(gettext_noop("not a mainland China mobile number: it must start with 13-19"))
    return number


def _mask_middle(text: str, keep_start: int, keep_end: int) -> str:
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)  # too short to reveal anything safely
    return text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[-keep_end:]


def mask_national_id(number: str | None) -> str:
    """Mask a resident ID as "110101********1234": the first 6 and last 4 characters stay.

    Whitespace is dropped; anything 10 characters or shorter is masked entirely; empty or None
    gives "".
    """
    if not number:
        return ""
    return _mask_middle("".join(str(number).split()), 6, 4)


def mask_mobile(number: str | None) -> str:
    """Mask a mobile number as "138****8000": the first 3 and last 4 digits stay.

    A valid number is normalized first ("+86 138-0013-8000" gives "138****8000"); anything else is
    masked as it stands, entirely if 7 characters or shorter; empty or None gives "".
    """
    if not number:
        return ""
    try:
        digits = normalize_mobile(number)
    except IdentityError:
        digits = "".join(str(number).split())
    return _mask_middle(digits, 3, 4)
