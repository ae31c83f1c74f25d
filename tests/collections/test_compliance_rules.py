"""The compliance guard's pure rules: each on both sides of its boundary, in the borrower's
time zone, and properties over any attempts (hypothesis)."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from debt_collection import compliance as c

SHANGHAI = ZoneInfo("Asia/Shanghai")
GBT = c.Rules(
    contact_from=time(8),
    contact_until=time(22),
    daily_connected_calls=3,
    weekly_attempts=21,
    weekly_calls_only=False,
    emergency_after=3,
    sources={c.HOURS: "GB/T 45251-2025"},
)
REG_F = c.Rules(time(8), time(21), None, 7, True, 3)


def at(h, m=0, s=0, day=10, tz=SHANGHAI):
    return datetime(2026, 11, day, h, m, s, tzinfo=tz)


def call(when, connected=False, party=c.BORROWER):
    return c.Attempt(when, c.CALL, party, True, connected)


def check(attempt, past=(), holds=(), rules=GBT, tz="Asia/Shanghai"):
    breach = c.check(rules, attempt, tz=tz, past=list(past), holds=list(holds))
    return breach.rule if breach else None


def test_contact_hours_at_both_edges_in_the_borrowers_zone():
    assert check(call(at(21, 59, 59))) is None
    assert check(call(at(22))) == c.HOURS
    assert check(call(at(7, 59, 59))) == c.HOURS
    assert check(call(at(8))) is None
    # 14:00 UTC is 22:00 in Shanghai: the borrower's clock decides, not the server's.
    assert check(call(datetime(2026, 11, 10, 14, tzinfo=UTC))) == c.HOURS
    assert check(call(datetime(2026, 11, 10, 13, 59, 59, tzinfo=UTC))) is None
    # The same instant for a borrower in Urumqi time (UTC+6) is 20:00: allowed.
    assert check(call(at(22)), tz="Asia/Urumqi") is None


def test_regulation_f_hours_end_at_nine():
    assert check(call(at(20, 59, 59)), rules=REG_F) is None
    assert check(call(at(21)), rules=REG_F) == c.HOURS


def test_a_letter_is_not_held_to_the_hours():
    assert check(c.Attempt(at(23), c.LETTER, c.BORROWER)) is None


def test_daily_limit_counts_connected_calls_of_the_local_day():
    two = [call(at(9), True), call(at(10), True), call(at(11), False)]
    assert check(call(at(12)), two) is None
    three = [*two, call(at(11, 30), True)]
    assert check(call(at(12)), three) == c.DAILY
    # SMS is not a call; the next local day starts afresh (midnight Shanghai, not UTC).
    assert check(c.Attempt(at(12), "sms", c.BORROWER), three) is None
    assert check(call(at(8, day=11)), three) is None


def test_weekly_limit_window_is_the_seven_days_up_to_the_attempt():
    first = at(9, day=1)
    past = [c.Attempt(first + timedelta(hours=i), "sms", c.BORROWER) for i in range(7)]
    rules = c.Rules(time(0), time(23, 59, 59), None, 7, False, 3)
    last = past[-1].at
    assert check(call(first + timedelta(days=7) - timedelta(seconds=1)), past, rules=rules) == (
        c.WEEKLY
    )
    assert check(call(first + timedelta(days=7)), past, rules=rules) is None
    assert last < first + timedelta(days=7)


def test_regulation_f_weekly_limit_counts_calls_only():
    past = [call(at(9, day=d)) for d in range(4, 11)]
    assert check(call(at(12)), past, rules=REG_F) == c.WEEKLY
    assert check(c.Attempt(at(12), "email", c.BORROWER), past, rules=REG_F) is None
    assert check(call(at(12)), past[1:], rules=REG_F) is None


def test_holds_stop_every_contact():
    assert check(c.Attempt(at(12), c.LETTER, c.BORROWER), holds=["dispute"]) == c.HOLD
    assert check(call(at(12)), holds=["do_not_contact"]) == c.HOLD


def test_only_the_borrower_and_listed_emergency_contacts():
    assert check(c.Attempt(at(12), c.CALL, "employer")) == c.PARTY
    assert check(c.Attempt(at(12), c.CALL, c.EMERGENCY_CONTACT, party_listed=False)) == c.PARTY


def test_emergency_contacts_only_after_n_consecutive_unreachable_attempts():
    emergency = c.Attempt(at(15), c.CALL, c.EMERGENCY_CONTACT)
    two = [call(at(9)), call(at(10))]
    assert check(emergency, two) == c.EMERGENCY
    assert check(emergency, [*two, call(at(11))]) is None
    # A connected call breaks the run: only the latest unreachable ones count.
    assert check(emergency, [*two, call(at(11), True), call(at(12))]) == c.EMERGENCY
    # Attempts after the one being logged do not count.
    assert check(emergency, [*two, call(at(16))]) == c.EMERGENCY


def test_the_first_broken_rule_is_reported_with_its_source():
    breach = c.check(GBT, call(at(23)), tz="Asia/Shanghai", past=[], holds=[])
    assert (breach.rule, breach.source) == (c.HOURS, "GB/T 45251-2025")


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@given(when=moments, zone=st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC"]))
def test_hours_rule_is_the_local_clock(when, zone):
    local = when.astimezone(ZoneInfo(zone)).time()
    allowed = time(8) <= local < time(22)
    assert (check(call(when), tz=zone) != c.HOURS) == allowed


@given(
    when=st.datetimes(
        min_value=datetime(2026, 6, 1, 8),
        max_value=datetime(2026, 6, 1, 21),
        timezones=st.just(SHANGHAI),
    ),
    history=st.lists(st.tuples(st.integers(0, 10_000), st.booleans()), max_size=30),
)
def test_a_contact_allowed_is_never_over_a_limit(when, history):
    past = [call(when - timedelta(minutes=m), connected) for m, connected in history]
    if check(call(when), past) is None:
        today = [p for p in past if p.at.astimezone(SHANGHAI).date() == when.date()]
        assert sum(p.connected for p in today) < 3
        assert sum(when - timedelta(days=7) < p.at <= when for p in past) < 21
