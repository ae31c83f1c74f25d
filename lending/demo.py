"""The demo book behind `manage.py load_demo`: logins, products, borrowers and a loan history.

Everything is derived from one seed (`random.Random` streams and a seeded Faker "zh_CN"), so the
same seed on the same day gives the same book. Borrowers are bulk-created (there is no borrower
service to go through yet); every loan and every money movement goes through the lending
services, in value-date order, so the ledger is exactly what the back office itself would have
written and `reconcile_loans` finds no difference.

Each borrower has a latent risk (`latent_risk`), the chance of going bad that drives how their
loans are decided and repaid. It is not stored: it is a function of the borrower's stored fields
and the seed (`DemoSummary.latent_risk` also holds it by national ID for the borrowers of one
load). The same risk drives the borrower's risk profile (bureau score, inquiries, past
delinquency, debt elsewhere, employment), each a noisy reading of it, so `manage.py
fit_scorecard` fitted on the book recovers a realistic, imperfect model.

The close of business runs only over the last nights, so older delinquency lives in the
installments: a loan that went 30+ days past due and caught up has the late installment
settled on the day it was paid ("cured"), and a written-off one has its installments settled
on the write-off date. Every verified borrower may also have earlier, short loans over before
the last 6 months ("historic" plans): the book's repayment history.
"""

import inspect
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone
from faker import Faker

from lending import roles
from lending.access import SYSTEM
from lending.close_of_business.runner import close_business_days
from lending.demo_ledger import DemoLedger
from lending.identity import IdentityError, generate_national_id, normalize_mobile
from lending.models import (
    Borrower,
    BusinessDayRun,
    EmergencyContact,
    Installment,
    Loan,
    LoanProduct,
    LoanStatus,
    Transaction,
)
from lending.models.borrowers import ContactRelation, KycStatus, Sex
from lending.models.loans import INSTALLMENT_OUTSTANDING, LoanOrigin
from lending.models.products import (
    CostCapType,
    FeeCollectionChoices,
    FeeType,
    PenaltyBase,
    PenaltyRateType,
    RepaymentMethodChoices,
)
from lending.money import quantize_money, to_multiple
from lending.pii import pii_digest
from lending.schedules import DayCount, RepaymentMethod, ScheduleTerms, add_months, due_dates
from lending.selectors import loan_payoff_quote
from lending.services.loans import (
    loan_book_approved,
    loan_cancel,
    loan_disburse,
    loan_write_off,
)
from lending.services.reconcile import reconcile_loans
from lending.services.repayments import (
    loan_credit_apply,
    loan_credit_refund,
    repayment_post,
    repayment_reverse,
)

DEFAULT_SEED = 20261129
DEFAULT_BORROWERS = 2600
HISTORY_DAYS = 600  # disbursements spread over roughly the last 20 months
MATURED_DAYS = 183  # a loan this old has its whole first 6 months on the books
# Earlier loans per verified borrower ((counts), (weights)), and their products: mostly salary
# advances, a single payment each, so the history a scorecard needs costs few service calls.
HISTORIC_LOANS = ((0, 1, 2), (45, 35, 20))
LOANS_PER_BORROWER = (8, 45, 31, 11, 5)  # weights of 0 … 4 loans in the last 20 months
HISTORIC_PRODUCT_WEIGHTS = (20, 10, 70)  # phone, cash, salary
RISK_REFERENCE_YEAR = 2026  # ages in the risk model count from a fixed year, not from "today"
BASE_RISK_LOGIT = -2.7  # log-odds of going bad for a 10,000-a-month salaried 27-year-old ...
HIDDEN_RISK_SD = 2.6  # ... give or take this much the application does not show (_risk_logit)
# How closely each bureau reading follows the hidden risk (correlation, demo_outside_data).
READING_WEIGHTS = {"score": 0.8, "past": 0.7, "inquiries": 0.65, "debt": 0.6, "tenure": 0.55}
SELF_EMPLOYED = "个体经营"
ZERO = Decimal("0.00")
YUAN = Decimal("1")
HUNDRED = Decimal("100")

# --------------------------------------------------------------------------- logins


@dataclass(frozen=True)
class DemoLogin:
    username: str
    group: str
    superuser: bool = False

    @property
    def password(self) -> str:
        """The published demo password, or a hint where none is set (DEBUG off)."""
        if not settings.DEBUG:
            return "(none: manage.py changepassword)"
        return f"demo-{self.username}-2026"


def refuse_outside_debug(*, confirmed: bool) -> None:
    """Demo loaders write a fictitious book next to real data: only where DEBUG is on (`make
    run`), or when the operator says in so many words that this database is a demo."""
    if not settings.DEBUG and not confirmed:
        raise DemoRefused(
            "DEBUG is off: this looks like production. The demo writes fictitious borrowers and "
            "loans; run it only on a demo database, with --yes-this-is-a-demo."
        )


class DemoRefused(Exception):
    pass


DEMO_HASH_ITERATIONS = 1000


def _demo_password_hash(password: str) -> str:
    """The published demo password, hashed with few rounds: it is printed on the console, so
    key stretching protects nothing, and full rounds cost about a second per login on a busy
    machine. Django re-hashes it with the configured rounds at the first login."""
    hasher = get_hasher()
    if "iterations" in inspect.signature(hasher.encode).parameters:
        return hasher.encode(password, hasher.salt(), iterations=DEMO_HASH_ITERATIONS)
    return make_password(password)


def demo_login(login: "DemoLogin"):
    """The demo user (created with its group if missing; an existing account is left as it is).
    With DEBUG off no published password is ever set: an administrator sets real ones.
    Returns (user, created)."""
    User = get_user_model()
    user = User.objects.filter(username=login.username).first()
    created = user is None
    if created:
        user = User(username=login.username, is_staff=True, is_superuser=login.superuser)
        if settings.DEBUG:
            user.password = _demo_password_hash(login.password)
        else:
            user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get_or_create(name=login.group)[0])
    return user, created


DEMO_LOGINS = (
    DemoLogin("admin", roles.ADMINISTRATOR, superuser=True),
    DemoLogin("officer", roles.CREDIT_OFFICER),
    DemoLogin("analyst", roles.RISK_ANALYST),
    DemoLogin("collector", roles.COLLECTOR),
    DemoLogin("manager", roles.COLLECTIONS_MANAGER),
    DemoLogin("finance", roles.FINANCE),
    DemoLogin("auditor", roles.AUDITOR),
)

# --------------------------------------------------------------------------- products

PHONE, CASH, SALARY = "phone-installment", "cash-loan", "salary-advance"
DEMO_PRODUCT_CODES = (PHONE, CASH, SALARY)

DEMO_PRODUCTS = {
    # 1 % upfront on a 3-month plan at 18 % would reach an APR of 24.18 %: the top rate is 17 %.
    PHONE: dict(
        name="手机分期 Phone installment",
        repayment_method=RepaymentMethodChoices.EQUAL_INSTALLMENT,
        min_term_months=3,
        max_term_months=24,
        min_amount=Decimal("500.00"),
        max_amount=Decimal("50000.00"),
        min_rate=Decimal("0.080000"),
        max_rate=Decimal("0.170000"),
        fee_type=FeeType.PERCENT,
        fee_value=Decimal("0.010000"),
        fee_collection=FeeCollectionChoices.UPFRONT,
        day_count=DayCount.ACT_360.value,
        grace_days=3,
        arrears_tolerance=Decimal("1.00"),
        penalty_rate_type=PenaltyRateType.CONTRACT_MULTIPLE,
        penalty_rate_value=Decimal("1.500000"),
        cost_cap_type=CostCapType.FIXED,
        cost_cap_value=Decimal("0.240000"),
        apr_ceiling=Decimal("0.240000"),
    ),
    CASH: dict(
        name="现金贷 Cash loan",
        repayment_method=RepaymentMethodChoices.EQUAL_PRINCIPAL,
        min_term_months=3,
        max_term_months=12,
        min_amount=Decimal("1000.00"),
        max_amount=Decimal("200000.00"),
        min_rate=Decimal("0.100000"),
        max_rate=Decimal("0.240000"),
        day_count=DayCount.ACT_360.value,
        grace_days=3,
        arrears_tolerance=Decimal("1.00"),
        penalty_base=PenaltyBase.OVERDUE_PRINCIPAL,
        penalty_rate_type=PenaltyRateType.CONTRACT_MULTIPLE,
        penalty_rate_value=Decimal("1.500000"),
        # Contract rates reach 24 %: penalty interest needs room up to the 36 % all-in cap.
        cost_cap_type=CostCapType.FIXED,
        cost_cap_value=Decimal("0.360000"),
        apr_ceiling=Decimal("0.240000"),
    ),
    SALARY: dict(
        name="工资预支 Salary advance",
        repayment_method=RepaymentMethodChoices.SINGLE_PAYMENT,
        min_term_months=1,
        max_term_months=3,
        min_amount=Decimal("500.00"),
        max_amount=Decimal("10000.00"),
        min_rate=Decimal("0.120000"),
        max_rate=Decimal("0.180000"),
        day_count=DayCount.ACT_365F.value,
        grace_days=1,
        arrears_tolerance=Decimal("1.00"),
        penalty_base=PenaltyBase.OVERDUE_PRINCIPAL_INTEREST,
        penalty_rate_type=PenaltyRateType.ABSOLUTE,
        penalty_rate_value=Decimal("0.240000"),
        cost_cap_type=CostCapType.FIXED,
        cost_cap_value=Decimal("0.240000"),
        apr_ceiling=Decimal("0.240000"),
        write_off_dpd=120,
    ),
}

TERMS = {
    PHONE: (3, 6, 6, 6, 12, 12, 12, 12, 18, 24, 24),
    CASH: (3, 6, 6, 9, 12, 12),
    SALARY: (1, 1, 2, 3),
}
PHONE_PRICES = (
    1299,
    1699,
    1999,
    2499,
    2999,
    3499,
    3999,
    4599,
    5499,
    5999,
    6499,
    6999,
    7999,
    8999,
    9999,
    12999,
    15999,
)
PURPOSES = {
    PHONE: ("手机分期购机", "以旧换新购机", "平板电脑分期", "笔记本电脑分期", "智能手表分期"),
    CASH: ("装修", "教育培训", "医疗费用", "旅游", "婚庆", "家电家具", "租房押金", "日常消费"),
    SALARY: ("工资预支", "临时周转", "房租周转"),
}

# --------------------------------------------------------------------------- regions

# (province prefix, province, population weight, [(region code, city, district)]), GB/T 2260.
REGIONS = (
    ("11", "北京市", 4, [("110105", "北京市", "朝阳区"), ("110108", "北京市", "海淀区")]),
    ("12", "天津市", 2, [("120101", "天津市", "和平区"), ("120104", "天津市", "南开区")]),
    ("13", "河北省", 5, [("130102", "石家庄市", "长安区"), ("130602", "保定市", "竞秀区")]),
    ("14", "山西省", 3, [("140105", "太原市", "小店区")]),
    ("15", "内蒙古自治区", 2, [("150102", "呼和浩特市", "新城区")]),
    ("21", "辽宁省", 3, [("210102", "沈阳市", "和平区"), ("210202", "大连市", "中山区")]),
    ("22", "吉林省", 2, [("220102", "长春市", "南关区")]),
    ("23", "黑龙江省", 2, [("230102", "哈尔滨市", "道里区")]),
    ("31", "上海市", 4, [("310115", "上海市", "浦东新区"), ("310104", "上海市", "徐汇区")]),
    ("32", "江苏省", 6, [("320102", "南京市", "玄武区"), ("320505", "苏州市", "虎丘区")]),
    ("33", "浙江省", 5, [("330106", "杭州市", "西湖区"), ("330203", "宁波市", "海曙区")]),
    ("34", "安徽省", 5, [("340104", "合肥市", "蜀山区"), ("340202", "芜湖市", "镜湖区")]),
    ("35", "福建省", 3, [("350203", "厦门市", "思明区"), ("350102", "福州市", "鼓楼区")]),
    ("36", "江西省", 4, [("360102", "南昌市", "东湖区"), ("360702", "赣州市", "章贡区")]),
    ("37", "山东省", 7, [("370102", "济南市", "历下区"), ("370202", "青岛市", "市南区")]),
    ("41", "河南省", 7, [("410105", "郑州市", "金水区"), ("410302", "洛阳市", "老城区")]),
    ("42", "湖北省", 4, [("420106", "武汉市", "武昌区"), ("420502", "宜昌市", "西陵区")]),
    ("43", "湖南省", 5, [("430103", "长沙市", "天心区"), ("430202", "株洲市", "荷塘区")]),
    (
        "44",
        "广东省",
        9,
        [
            ("440106", "广州市", "天河区"),
            ("440305", "深圳市", "南山区"),
            ("441900", "东莞市", "东莞市"),
        ],
    ),
    ("45", "广西壮族自治区", 4, [("450103", "南宁市", "青秀区"), ("450302", "桂林市", "秀峰区")]),
    ("46", "海南省", 1, [("460105", "海口市", "秀英区")]),
    ("50", "重庆市", 3, [("500103", "重庆市", "渝中区"), ("500112", "重庆市", "渝北区")]),
    ("51", "四川省", 6, [("510107", "成都市", "武侯区"), ("510703", "绵阳市", "涪城区")]),
    ("52", "贵州省", 3, [("520102", "贵阳市", "南明区")]),
    ("53", "云南省", 3, [("530102", "昆明市", "五华区")]),
    ("54", "西藏自治区", 1, [("540102", "拉萨市", "城关区")]),
    ("61", "陕西省", 3, [("610113", "西安市", "雁塔区")]),
    ("62", "甘肃省", 2, [("620102", "兰州市", "城关区")]),
    ("63", "青海省", 1, [("630102", "西宁市", "城东区")]),
    ("64", "宁夏回族自治区", 1, [("640104", "银川市", "兴庆区")]),
    ("65", "新疆维吾尔自治区", 2, [("650102", "乌鲁木齐市", "天山区")]),
)
# Where people move for work: an address is often in one of these, not the ID's province.
MIGRATION_TARGETS = ("44", "31", "11", "33", "32")
# A small, made-up regional effect on latent risk (log-odds).
PROVINCE_RISK = {
    "44": 0.10,
    "45": 0.15,
    "46": 0.10,
    "52": 0.15,
    "53": 0.10,
    "31": -0.15,
    "11": -0.15,
    "33": -0.10,
    "32": -0.10,
}
_REGION_BY_PREFIX = {prefix: (name, districts) for prefix, name, _w, districts in REGIONS}

BLACKLIST_REASONS = (
    "最高法院失信被执行人名单 (court-listed judgment defaulter)",
    "身份证件伪造 (forged identity documents)",
    "多头借贷欺诈, 已报警 (loan-stacking fraud, reported to police)",
    "冒用他人身份申请 (applied under another person's identity)",
    "同业共享黑名单: 恶意逃废债 (industry blacklist: deliberate debt evasion)",
)
REJECT_REASONS = (
    "负债收入比超过 50 % (debt-to-income above 50 %)",
    "收入无法核实 (income could not be verified)",
    "近三个月多头申请 (too many recent applications elsewhere)",
    "征信报告有当前逾期 (current delinquency on the credit report)",
    "评分卡等级 E (scorecard grade E)",
)
KYC_REJECT_REASON = "身份核验未通过 (KYC rejected)"
CANCEL_REASONS = (
    "借款人撤回申请 (borrower withdrew the application)",
    "重复申请 (duplicate application)",
    "七日内未签署合同 (contract not signed within 7 days)",
    "借款人改用其他产品 (borrower chose another product)",
)
WRITE_OFF_REASONS = (
    "逾期超过核销天数, 催收无果 (past the write-off dpd, collection exhausted)",
    "借款人失联 (borrower unreachable at every known contact)",
    "法院裁定无财产可供执行 (court found no assets to enforce against)",
)
REFUND_NOTE = "overpayment returned to the borrower's bank card"
REVERSAL_REASON = "银行退票: 余额不足 (returned by the bank: insufficient funds)"
CHANNELS = ("auto_debit", "auto_debit", "auto_debit", "alipay", "wechat_pay", "bank_transfer")

# --------------------------------------------------------------------------- latent risk


def _risk_logit(borrower, seed: int) -> tuple[float, float]:
    """(log-odds of going bad, the part of it no application field shows).

    The hidden part is what the credit bureau sees and the application does not: the demo's
    bureau data measure it with noise (`demo_outside_data`), so a scorecard fitted on the
    bureau fields and the application together recovers much, never all, of the risk."""
    income = float(borrower.monthly_income or 3000)
    age = RISK_REFERENCE_YEAR - borrower.date_of_birth.year
    employer = (borrower.employer or "").strip()
    z = BASE_RISK_LOGIT + 0.85 * math.log(10000 / income)
    z += 0.06 * max(0, 27 - age) + 0.03 * max(0, age - 48)
    if not employer:
        z += 0.7
    elif employer == SELF_EMPLOYED:
        z += 0.3
    z += PROVINCE_RISK.get(borrower.national_id[:2], 0.0)
    hidden = random.Random(f"{seed}:risk:{borrower.national_id}").gauss(0, 1)
    return z + HIDDEN_RISK_SD * hidden, hidden


def latent_risk(borrower, *, seed: int = DEFAULT_SEED) -> float:
    """The borrower's chance of going bad (0–1): what drives their demo repayment behaviour.

    A logistic function of stored fields (income, age, employer, home province) plus noise keyed
    by seed and national ID, so it can be recomputed for any demo borrower and nothing extra is
    stored. `borrower` is a Borrower or anything with the same attributes.
    """
    z, _hidden = _risk_logit(borrower, seed)
    return _sigmoid(z)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def demo_outside_data(profile, *, seed: int, today: date) -> dict:
    """The borrower's RiskProfile fields (bureau report, employment, debt elsewhere).

    Each bureau figure is a noisy reading of the borrower's hidden risk (`_risk_logit`), so the
    profile and the repayment behaviour share one cause; the noise keeps a fitted scorecard
    realistic (held-out AUC around 0.8, not 0.99). Keyed by seed and national ID: it draws
    nothing from the book's random streams.
    """
    rng = random.Random(f"{seed}:bureau:{profile.national_id}")
    _z, hidden = _risk_logit(profile, seed)

    def reading(name: str) -> float:  # standard normal, correlated with the hidden risk
        weight = READING_WEIGHTS[name]
        return weight * hidden + math.sqrt(1 - weight * weight) * rng.gauss(0, 1)

    age = RISK_REFERENCE_YEAR - profile.date_of_birth.year
    employer = (profile.employer or "").strip()
    if not employer:
        employment = rng.choice(("unemployed", "gig", "student" if age < 24 else "gig"))
    elif employer == SELF_EMPLOYED:
        employment = "self_employed"
    elif age >= 55 and rng.random() < 0.3:
        employment = "retired"
    else:
        employment = "gig" if rng.random() < 0.08 else "salaried"
    months = None
    if employment in ("salaried", "self_employed", "gig") and rng.random() >= 0.03:
        typical = (4 + 2.2 * max(0, age - 20)) * math.exp(-0.45 * reading("tenure"))
        months = min(12 * (age - 16), max(0, round(rng.expovariate(1 / typical))))
    if employment == "salaried":
        sources = (("payroll", 55), ("social_insurance", 15), ("tax", 10), ("bank", 10))
        sources += (("declared", 10),)
    elif employment == "self_employed":
        sources = (("bank", 50), ("tax", 20), ("declared", 30))
    else:
        sources = (("bank", 40), ("declared", 60))
    income_source = rng.choices([s for s, _ in sources], [w for _, w in sources])[0]

    thin_file = rng.random() < (0.10 if age < 25 else 0.03)
    score = None if thin_file else round(min(900, max(350, 650 - 62 * reading("score"))))
    past = reading("past")
    worst = 0
    if rng.random() < _sigmoid(-1.4 + 1.4 * past):
        worst = min(360, 1 + round(rng.expovariate(1 / (12 + 30 * max(0.0, past)))))
    current = 1 if rng.random() < _sigmoid(-4.5 + 1.2 * past) else 0
    inquiries = min(20, _poisson(rng, math.exp(0.5 + 0.5 * reading("inquiries"))))
    debt = None
    if rng.random() >= 0.04:
        dti = 0.0 if rng.random() < 0.25 else 0.2 + 0.12 * reading("debt") + rng.uniform(-0.1, 0.1)
        income = profile.monthly_income
        share = Decimal(f"{min(0.8, max(0.0, dti)):.4f}")  # a random draw, fixed to 4 places
        debt = to_multiple(income * share, Decimal(10))
    return {
        "income_source": income_source,
        "employment_type": employment,
        "employment_months": months,
        "existing_monthly_debt": debt,
        "bureau_score": score,
        "bureau_inquiries_6m": None if thin_file else inquiries,
        "bureau_worst_delinquency_days": None if thin_file else worst,
        "bureau_current_delinquencies": None if thin_file else current,
        "bureau_reported_on": today - timedelta(days=rng.randint(0, 90)),
    }


# --------------------------------------------------------------------------- borrowers


@dataclass
class BorrowerProfile:
    full_name: str
    national_id: str
    date_of_birth: date
    sex: str
    mobile: str
    address: str
    employer: str
    monthly_income: Decimal
    kyc_status: str
    is_blacklisted: bool = False
    blacklist_reason: str = ""
    contacts: list[tuple[str, str, str]] = field(default_factory=list)
    risk: float = 0.0
    outside: dict = field(default_factory=dict)  # RiskProfile fields (demo_outside_data)


def _name(fake: Faker, sex: str) -> str:
    # zh_CN has no gendered name formats (name_male() mixes): surname + gendered given name.
    given = fake.first_name_male() if sex == Sex.MALE else fake.first_name_female()
    return f"{fake.last_name()}{given}"


def _mobile(fake: Faker, rng: random.Random, taken: set[str]) -> str:
    for _ in range(5):
        try:
            number = normalize_mobile(fake.phone_number())
        except IdentityError:
            continue
        if number not in taken:
            taken.add(number)
            return number
    while True:
        number = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        if number not in taken:
            taken.add(number)
            return number


def _address(fake: Faker, rng: random.Random, home_prefix: str) -> str:
    prefix = home_prefix if rng.random() < 0.6 else rng.choice(MIGRATION_TARGETS)
    province, districts = _REGION_BY_PREFIX[prefix]
    _code, city, district = rng.choice(districts)
    place = province if province == city else f"{province}{city}"
    building, unit = rng.randint(1, 30), rng.randint(1, 6)
    flat = f"{building}栋{unit}单元{rng.randint(1, 33)}{rng.randint(1, 4):02d}室"
    return f"{place}{district}{fake.street_name()}{rng.randint(1, 999)}号{flat}"


def demo_borrower_profiles(*, seed: int, count: int, today: date) -> list[BorrowerProfile]:
    """The demo borrowers, without touching the database (same seed and day → same people)."""
    rng = random.Random(f"{seed}:borrowers")
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    prefixes = [prefix for prefix, *_ in REGIONS]
    weights = [weight for _p, _n, weight, _d in REGIONS]
    ids: set[str] = set()
    mobiles: set[str] = set()
    blacklisted = set(rng.sample(range(count), max(1, round(count * 0.02)))) if count > 1 else set()
    profiles = []
    for n in range(count):
        sex = rng.choice((Sex.MALE, Sex.FEMALE))
        age = int(rng.triangular(20, 59, 27))
        born = today - timedelta(days=365 * age + rng.randint(1, 360))
        born = min(born, add_months(today, -12 * age) - timedelta(days=1))  # age ≥ 20 today
        prefix = rng.choices(prefixes, weights)[0]
        region_code = rng.choice(_REGION_BY_PREFIX[prefix][1])[0]
        while True:
            national_id = generate_national_id(
                date_of_birth=born, sex=sex, region_code=region_code, sequence=rng.randrange(100)
            )
            if national_id not in ids:
                ids.add(national_id)
                break
        roll = rng.random()
        employer = "" if roll < 0.03 else SELF_EMPLOYED if roll < 0.08 else fake.company()
        income = Decimal(round(min(40000, max(3000, rng.lognormvariate(math.log(9000), 0.55)))))
        income = (income / HUNDRED).quantize(YUAN) * HUNDRED
        kyc_roll = rng.random()
        kyc = (
            KycStatus.PENDING
            if kyc_roll < 0.04
            else KycStatus.REJECTED
            if kyc_roll < 0.06
            else KycStatus.VERIFIED
        )
        profile = BorrowerProfile(
            full_name=_name(fake, sex),
            national_id=national_id,
            date_of_birth=born,
            sex=sex,
            mobile=_mobile(fake, rng, mobiles),
            address=_address(fake, rng, prefix),
            employer=employer,
            monthly_income=income.quantize(Decimal("0.01")),
            kyc_status=kyc,
        )
        if n in blacklisted:
            profile.is_blacklisted = True
            profile.blacklist_reason = rng.choice(BLACKLIST_REASONS)
        relations = rng.sample(
            [
                ContactRelation.SPOUSE,
                ContactRelation.PARENT,
                ContactRelation.SIBLING,
                ContactRelation.FRIEND,
                ContactRelation.COLLEAGUE,
                ContactRelation.RELATIVE,
            ],
            k=1 if rng.random() < 0.35 else 2,
        )
        profile.contacts = []
        for relation in relations:
            other = Sex.FEMALE if sex == Sex.MALE else Sex.MALE
            contact_sex = other if relation == ContactRelation.SPOUSE else rng.choice(tuple(Sex))
            name = _name(fake, contact_sex)
            profile.contacts.append((name, relation, _mobile(fake, rng, mobiles)))
        profile.risk = latent_risk(profile, seed=seed)
        profile.outside = demo_outside_data(profile, seed=seed, today=today)
        profiles.append(profile)
    return profiles


# --------------------------------------------------------------------------- loan plans

PENDING, APPROVED, REJECTED, CANCELLED = "pending", "approved", "rejected", "cancelled"
CURRENT, CLOSED, PREPAID, LATE, PARTIAL = "current", "closed", "prepaid", "late", "partial"
WRITTEN_OFF, CREDIT, REVERSED = "written_off", "credit", "reversed"
CURED = "cured"  # went 31–80 days past due within its first months, then caught up
APPLICATION_SCENARIOS = (PENDING, APPROVED, REJECTED, CANCELLED)
DISBURSED_SCENARIOS = (
    CURRENT,
    CLOSED,
    PREPAID,
    LATE,
    PARTIAL,
    WRITTEN_OFF,
    CREDIT,
    REVERSED,
    CURED,
)
BAD_SCENARIOS = (WRITTEN_OFF, LATE, PARTIAL, REJECTED, CURED)
ALL_SCENARIOS = APPLICATION_SCENARIOS + DISBURSED_SCENARIOS
# Event order within one loan and one day.
BOOK, DECIDE, DISBURSE, PAY, WRITE_OFF, REFUND = range(6)
# Days since the first late loans' missed due date, one band per delinquent bucket (M1 … M7 of
# the default table) as of last night, the day before; the last ones are past the salary
# advance's write-off dpd, awaiting the write-off.
LATE_BANDS = ((5, 31), (32, 61), (62, 91), (92, 121), (122, 151), (152, 181), (183, 230))


@dataclass
class LoanPlan:
    index: int
    borrower: int  # index into the profiles
    risk: float
    scenario: str
    product: str = ""
    principal: Decimal = ZERO
    rate: Decimal = ZERO
    term: int = 0
    purpose: str = ""
    applied: date | None = None
    start: date | None = None
    events: list[tuple] = field(default_factory=list)  # (date, order, kind, params)
    # An earlier loan, over before the last 6 months: the repayment history a scorecard learns.
    historic: bool = False
    band: int | None = None  # a late loan's dpd band (LATE_BANDS), so every bucket is there

    def add(self, when: date, order: int, kind: str, **params) -> None:
        self.events.append((when, order, kind, params))


def _scenario(rng: random.Random, risk: float, kyc: str) -> str:
    if kyc == KycStatus.REJECTED:
        return REJECTED
    if kyc == KycStatus.PENDING:
        return rng.choices((PENDING, CANCELLED, REJECTED), (5, 2, 1))[0]
    roll = rng.random()
    for scenario, chance in (
        (PENDING, 0.03),
        (APPROVED, 0.02),
        (CANCELLED, 0.04),
        (REJECTED, min(0.4, 0.03 + 0.35 * risk)),
    ):
        if roll < chance:
            return scenario
        roll -= chance
    roll = rng.random()
    for scenario, chance in (
        (WRITTEN_OFF, 0.2 * risk),
        (LATE, 0.25 * risk),
        (PARTIAL, 0.1 * risk),
        (CURED, 0.45 * risk),
    ):
        if roll < chance:
            return scenario
        roll -= chance
    return rng.choices((CURRENT, CLOSED, PREPAID, CREDIT, REVERSED), (48, 38, 10, 3, 0.5))[0]


def _historic_scenario(rng: random.Random, risk: float) -> str:
    """An earlier loan goes bad with the borrower's latent risk, like any other."""
    if rng.random() < risk:
        return rng.choices((CURED, WRITTEN_OFF), (6, 4))[0]
    return rng.choices((CLOSED, PREPAID), (3, 1))[0]


def _ensure_coverage(plans: list[LoanPlan], profiles: list[BorrowerProfile]) -> None:
    """Every scenario at least once (late loans once per delinquency bucket), taken from the
    riskiest (or safest) loan that can spare it."""
    counts = Counter(p.scenario for p in plans)
    wanted = [s for s in ALL_SCENARIOS for _ in range(len(LATE_BANDS) if s == LATE else 1)]
    for n, scenario in enumerate(wanted):
        if counts[scenario] > wanted[:n].count(scenario):
            continue
        needs_verified = scenario not in (PENDING, REJECTED, CANCELLED)
        candidates = [
            p
            for p in plans
            if counts[p.scenario] > 1
            and not p.historic
            and (not needs_verified or profiles[p.borrower].kyc_status == KycStatus.VERIFIED)
        ]
        if not candidates:
            continue
        bad = scenario in BAD_SCENARIOS
        chosen = max(candidates, key=lambda p: p.risk if bad else -p.risk)
        counts[chosen.scenario] -= 1
        chosen.scenario = scenario
        counts[scenario] += 1


def _days(rng: random.Random, low: date, high: date) -> date:
    return low + timedelta(days=rng.randint(0, max(0, (high - low).days)))


def _lateness(rng: random.Random, risk: float) -> int:
    if rng.random() >= min(0.7, 0.08 + 1.2 * risk):
        return 0
    return rng.randint(1, min(20, 3 + int(25 * risk)))


def _choose_product(rng: random.Random, plan: LoanPlan, profile: BorrowerProfile) -> None:
    if plan.scenario in (CREDIT, REVERSED):
        code = rng.choice((PHONE, CASH))
    elif plan.historic:
        code = rng.choices((PHONE, CASH, SALARY), HISTORIC_PRODUCT_WEIGHTS)[0]
    else:
        code = rng.choices((PHONE, CASH, SALARY), (50, 35, 15))[0]
    terms = TERMS[code]
    if plan.scenario in (CREDIT, REVERSED):
        terms = tuple(t for t in terms if t >= 6)
    elif plan.historic:  # the shortest terms: history at the fewest payments
        terms = tuple(t for t in terms if t <= 3 and (code != SALARY or t <= 2))
    elif plan.scenario == CLOSED:
        terms = tuple(t for t in terms if t <= 12)
    plan.product, plan.term = code, rng.choice(terms)
    income = profile.monthly_income
    if code == PHONE:
        price = Decimal(rng.choice(PHONE_PRICES))
        principal = price - (Decimal(rng.choice((0, 0, 0, 500, 1000))) if price > 2000 else 0)
    elif code == CASH:
        principal = (income * Decimal(rng.uniform(0.8, 5)) / 1000).quantize(YUAN) * 1000
        principal = min(Decimal(200000), max(Decimal(1000), principal))
    else:
        principal = (income * Decimal(rng.uniform(0.3, 0.8)) / HUNDRED).quantize(YUAN) * HUNDRED
        principal = min(Decimal(10000), max(Decimal(500), principal))
    spec = DEMO_PRODUCTS[code]
    low, high = spec["min_rate"], spec["max_rate"]
    position = min(1.0, max(0.0, 3 * plan.risk + rng.uniform(-0.15, 0.15)))
    steps = int((high - low) / Decimal("0.005"))
    plan.rate = low + Decimal("0.005") * round(position * steps)
    plan.principal = principal.quantize(Decimal("0.01"))
    plan.purpose = rng.choice(PURPOSES[code])


def _dues(plan: LoanPlan) -> list[date]:
    spec = DEMO_PRODUCTS[plan.product]
    return due_dates(
        ScheduleTerms(
            principal=plan.principal,
            annual_rate=plan.rate,
            term_months=plan.term,
            start_date=plan.start,
            method=RepaymentMethod(spec["repayment_method"]),
        )
    )


def _pay_normally(rng, plan: LoanPlan, dues: list[date], until: date, *, round_up=False) -> None:
    """Pay each installment falling due before `until`, on time or a few days late."""
    for due in dues:
        if due >= until:
            break
        paid_on = min(due + timedelta(days=_lateness(rng, plan.risk)), until)
        plan.add(paid_on, PAY, "pay_due", round_up=round_up)


def _plan_disbursed(rng: random.Random, plan: LoanPlan, today: date, window_start: date) -> None:
    s = plan.scenario
    wo_dpd = DEMO_PRODUCTS[plan.product].get("write_off_dpd", 180)
    stop = None  # index of the first installment not paid in full
    if s == CURRENT:
        plan.start = _days(
            rng, max(window_start, add_months(today, -plan.term) + timedelta(1)), today
        )
    elif s in (CREDIT, REVERSED):
        low = max(window_start, add_months(today, -plan.term) + timedelta(1))
        plan.start = _days(rng, low, add_months(today, -2) - timedelta(days=8))
    elif s == CLOSED:
        latest = add_months(today, -plan.term) - timedelta(days=25)
        if plan.historic:
            latest = min(latest, today - timedelta(days=MATURED_DAYS + 20))
        plan.start = _days(rng, window_start, latest)
    elif s == PREPAID:
        latest = today - timedelta(days=MATURED_DAYS + 20 if plan.historic else 20)
        plan.start = _days(rng, window_start, latest)
    elif s == CURED:
        stop = rng.choice((0, 0, 1, 1, 2, 3))
        plan.start = _days(rng, window_start, today - timedelta(days=MATURED_DAYS + 20))
    elif s in (LATE, PARTIAL):
        if s == LATE and plan.band is not None:
            dpd = rng.randint(*LATE_BANDS[plan.band])
        elif s == LATE:
            # The last band: past the write-off dpd, awaiting the write-off (finance's list).
            bands = ((4, 30), (31, 60), (61, 90), (91, wo_dpd - 1), (wo_dpd, wo_dpd + 60))
            bucket = rng.choices(bands, (5, 2, 1.5, 1.5, 0.7))
            dpd = rng.randint(*bucket[0])
        else:
            dpd = rng.randint(4, 75)
        stop = rng.randint(0, plan.term - 1)
        while stop and add_months(today - timedelta(days=dpd), -(stop + 1)) < window_start:
            stop -= 1
        plan.start = add_months(today - timedelta(days=dpd), -(stop + 1))
    elif s == WRITTEN_OFF:
        stop = min(plan.term - 1, rng.choice((0, 0, 1, 1, 2, 3, 5)))
        delay = wo_dpd + rng.randint(0, 40)
        while True:
            low = add_months(window_start, stop + 1) + timedelta(days=3)
            if low <= today - timedelta(days=delay) or stop == 0:
                break
            stop -= 1
        last_due = _days(rng, low, today - timedelta(days=delay))
        plan.start = add_months(last_due, -(stop + 1))
    dues = _dues(plan)
    plan.applied = plan.start - timedelta(days=rng.randint(0, 3))
    plan.add(plan.applied, BOOK, "book")
    plan.add(plan.applied, DECIDE, "approve")
    plan.add(plan.start, DISBURSE, "disburse")
    if s in (CURRENT, CLOSED, CREDIT):
        _pay_normally(rng, plan, dues, today + timedelta(days=1), round_up=s == CREDIT)
    elif s == REVERSED:
        passed = [i for i, due in enumerate(dues) if due + timedelta(days=6) <= today]
        bounced = rng.choice(passed)
        for i, due in enumerate(dues):
            if due > today:
                break
            if i == bounced:
                plan.add(due, PAY, "pay_and_bounce")
                plan.add(due + timedelta(days=rng.randint(2, 5)), PAY, "pay_due")
            else:
                plan.add(
                    min(due + timedelta(days=_lateness(rng, plan.risk)), today), PAY, "pay_due"
                )
    elif s == PREPAID:
        payoff_on = _days(rng, plan.start + timedelta(days=10), min(today, dues[-1] - timedelta(1)))
        _pay_normally(rng, plan, dues, payoff_on)
        extra = rng.random() < 0.35
        plan.add(payoff_on, PAY, "payoff", round_up=extra)
        if extra and rng.random() < 0.5:
            plan.add(min(today, payoff_on + timedelta(days=rng.randint(1, 7))), REFUND, "refund")
    elif s == CURED:
        stop = min(stop, len(dues) - 1)
        missed = dues[stop]
        _pay_normally(rng, plan, dues[:stop], missed)
        caught_up = min(today, missed + timedelta(days=rng.randint(31, 80)))
        plan.add(caught_up, PAY, "pay_due")
        later = [due for due in dues if due > caught_up]
        _pay_normally(rng, plan, later, today + timedelta(days=1))
    elif s in (LATE, PARTIAL, WRITTEN_OFF):
        stop = min(stop, len(dues) - 1)
        missed = dues[stop]
        _pay_normally(rng, plan, dues[:stop], missed)
        end = today if s != WRITTEN_OFF else missed + timedelta(days=delay)
        if s == PARTIAL:
            when = min(missed + timedelta(days=rng.randint(0, 5)), today)
            plan.add(when, PAY, "pay_due", fraction=rng.uniform(0.2, 0.8))
        elif (end - missed).days > 20 and rng.random() < 0.4:
            when = _days(rng, missed + timedelta(days=10), end - timedelta(days=5))
            plan.add(when, PAY, "pay_due", cap=Decimal(rng.choice((100, 200, 300, 500))))
        if s == WRITTEN_OFF:
            plan.add(end, WRITE_OFF, "write_off", reason=rng.choice(WRITE_OFF_REASONS))


def plan_loans(*, seed: int, profiles: list[BorrowerProfile], today: date) -> list[LoanPlan]:
    """Every demo loan and its dated events, from the borrowers' latent risk (no database)."""
    rng = random.Random(f"{seed}:loans")
    history = random.Random(f"{seed}:history")
    window_start = today - timedelta(days=HISTORY_DAYS)
    plans: list[LoanPlan] = []
    for b, profile in enumerate(profiles):
        if profile.is_blacklisted:
            continue
        how_many = rng.choices((0, 1, 2, 3, 4), LOANS_PER_BORROWER)[0]
        for _ in range(how_many):
            scenario = _scenario(rng, profile.risk, profile.kyc_status)
            plans.append(LoanPlan(len(plans), b, profile.risk, scenario))
        if profile.kyc_status != KycStatus.VERIFIED:
            continue
        for _ in range(history.choices(*HISTORIC_LOANS)[0]):
            scenario = _historic_scenario(history, profile.risk)
            plans.append(LoanPlan(len(plans), b, profile.risk, scenario, historic=True))
    _ensure_coverage(plans, profiles)
    late = [p for p in plans if p.scenario == LATE]
    for band, plan in enumerate(late[: len(LATE_BANDS)]):
        plan.band = band
    for plan in plans:
        _choose_product(rng, plan, profiles[plan.borrower])
        if plan.scenario in DISBURSED_SCENARIOS:
            _plan_disbursed(rng, plan, today, window_start)
            continue
        if plan.scenario == PENDING:
            plan.applied = today - timedelta(days=rng.randint(0, 6))
        elif plan.scenario == APPROVED:
            plan.applied = today - timedelta(days=rng.randint(0, 10))
        else:
            plan.applied = _days(rng, window_start, today)
        plan.add(plan.applied, BOOK, "book")
        if plan.scenario == APPROVED:
            plan.add(plan.applied, DECIDE, "approve")
        elif plan.scenario == REJECTED:
            kyc_rejected = profiles[plan.borrower].kyc_status == KycStatus.REJECTED
            reason = KYC_REJECT_REASON if kyc_rejected else rng.choice(REJECT_REASONS)
            plan.add(plan.applied, DECIDE, "reject", reason=reason)
        elif plan.scenario == CANCELLED:  # approved, then withdrawn before disbursement
            # (a borrower whose KYC never cleared withdrew an application: no loan)
            if profiles[plan.borrower].kyc_status == KycStatus.VERIFIED:
                plan.add(plan.applied, DECIDE, "approve")
            plan.add(
                plan.applied + timedelta(days=rng.randint(0, 5)),
                DECIDE,
                "cancel",
                reason=rng.choice(CANCEL_REASONS),
            )
    for plan in plans:
        # Same-day events keep their planned order; a date never runs backwards within a loan.
        ordered, latest = [], None
        for when, order, kind, params in plan.events:
            when = min(today, max(when, latest) if latest else when)
            ordered.append((when, order, kind, params))
            latest = when
        plan.events = ordered
    return plans


# --------------------------------------------------------------------------- loading


@dataclass
class DemoSummary:
    already_loaded: bool
    seed: int
    borrowers: int
    loans_by_status: dict[str, int]
    active_late: int
    with_credit_balance: int
    transactions: int
    transactions_by_kind: dict[str, int]
    logins: list[tuple[str, str, str]]  # (username, password, group)
    seconds: float = 0.0
    reconcile_clean: bool | None = None
    latent_risk: dict[str, float] = field(default_factory=dict)  # national ID → risk, this load

    @property
    def loans(self) -> int:
        return sum(self.loans_by_status.values())

    def lines(self) -> list[str]:
        active = self.loans_by_status.get(LoanStatus.ACTIVE, 0)
        out = [
            f"Borrowers: {self.borrowers}",
            f"Loans: {self.loans}",
            *(
                f"  {status.label.lower():<12} {self.loans_by_status.get(status, 0)}"
                for status in LoanStatus
            ),
            f"    of the active: {active - self.active_late} current, {self.active_late} overdue",
            f"  with a credit balance: {self.with_credit_balance}",
            f"Transactions: {self.transactions}",
            *(f"  {kind:<20} {n}" for kind, n in sorted(self.transactions_by_kind.items())),
        ]
        if self.reconcile_clean is not None:
            out.append(f"Reconcile: {'clean' if self.reconcile_clean else 'DIFFERENCES FOUND'}")
        out.append("Demo logins (username / password / role):")
        out += [f"  {user:<10} {password:<24} {group}" for user, password, group in self.logins]
        return out


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")


def _ensure_logins() -> tuple[dict[str, object], set[str]]:
    """The demo users by group, and the usernames that existed already (left as they were,
    password included; they only join their group)."""
    users, existing = {}, set()
    for login in DEMO_LOGINS:
        user, created = demo_login(login)
        if not created:
            existing.add(login.username)
        users[login.group] = user
    return users, existing


def _create_products() -> dict[str, LoanProduct]:
    products = {}
    for code, spec in DEMO_PRODUCTS.items():
        product = LoanProduct(code=code, **spec)
        product.full_clean()
        product.save()
        products[code] = product
    return products


def _create_borrowers(profiles: list[BorrowerProfile]) -> list[Borrower]:
    digests = [pii_digest(p.national_id) for p in profiles]
    taken = Borrower.objects.filter(national_id_digest__in=digests).count()
    if taken:
        raise RuntimeError(f"{taken} demo national IDs already belong to other borrowers")
    borrowers = Borrower.objects.bulk_create(
        Borrower(
            full_name=p.full_name,
            national_id=p.national_id,
            date_of_birth=p.date_of_birth,
            sex=p.sex,
            mobile=p.mobile,
            address=p.address,
            employer=p.employer,
            monthly_income=p.monthly_income,
            kyc_status=p.kyc_status,
            is_blacklisted=p.is_blacklisted,
            blacklist_reason=p.blacklist_reason,
        )
        for p in profiles
    )
    if any(b.pk is None for b in borrowers):  # backends that return no ids from bulk_create
        by_digest = dict(
            Borrower.objects.filter(national_id_digest__in=digests).values_list(
                "national_id_digest", "pk"
            )
        )
        for b in borrowers:
            b.pk = by_digest[b.national_id_digest]
    EmergencyContact.objects.bulk_create(
        EmergencyContact(borrower=b, name=name, relation=relation, phone=phone)
        for b, p in zip(borrowers, profiles, strict=True)
        for name, relation, phone in p.contacts
    )
    _create_outside_data(borrowers, profiles)
    return borrowers


def _create_outside_data(borrowers: list[Borrower], profiles: list[BorrowerProfile]) -> None:
    # Looked up by name, not imported: lending must not depend on risk (DESIGN §3.2); the demo
    # book is the one place that fills every app, and without risk it simply has no profiles.
    if not apps.is_installed("risk"):
        return
    RiskProfile = apps.get_model("risk", "RiskProfile")
    RiskProfile.objects.bulk_create(
        RiskProfile(borrower=b, **p.outside)
        for b, p in zip(borrowers, profiles, strict=True)
        if p.outside
    )


def _amount_due(loan_id: int, as_of: date) -> tuple[Decimal, Decimal]:
    """(what has fallen due by `as_of` and is unpaid, the loan's credit balance).

    One query: with nothing due the credit balance reads 0, which no caller needs then."""
    row = Installment.objects.filter(loan_id=loan_id, due_date__lte=as_of).aggregate(
        total=Sum(INSTALLMENT_OUTSTANDING), credit=Max("loan__credit_balance")
    )
    return quantize_money(row["total"] or ZERO), row["credit"] or ZERO


class _Runner:
    """Runs the planned events through the services, in value-date order."""

    def __init__(self, *, products, borrowers, users, seed: int):
        self.products = products
        self.borrowers = borrowers
        self.users = users
        self.rng = random.Random(f"{seed}:payments")
        self.loan_ids: dict[int, int] = {}  # plan index → loan id
        self.serial = 0

    def run(self, plan: LoanPlan, when: date, kind: str, params: dict) -> None:
        getattr(self, kind)(plan, when, **params)

    # -- applications. A loan is approved only through an application (risk's underwriting,
    # which load_risk_demo runs); this book predates the platform's applications, so its loans
    # come in as migrated loans, contracted elsewhere. Applications still pending or declined
    # leave no loan.
    def book(self, plan, when):
        pass

    def approve(self, plan, when):
        loan = loan_book_approved(
            borrower=self.borrowers[plan.borrower],
            product=self.products[plan.product],
            principal=plan.principal,
            annual_rate=plan.rate,
            term_months=plan.term,
            purpose=plan.purpose,
            origin=LoanOrigin.MIGRATED,
            acting_user=SYSTEM,
        )
        self.loan_ids[plan.index] = loan.pk

    def reject(self, plan, when, reason):
        pass

    def cancel(self, plan, when, reason):
        if plan.index not in self.loan_ids:
            return  # withdrawn before any approval: the application left no loan
        loan_cancel(
            loan_id=self.loan_ids[plan.index],
            reason=reason,
            acting_user=self.users[roles.CREDIT_OFFICER],
        )

    def disburse(self, plan, when):
        loan_disburse(
            loan_id=self.loan_ids[plan.index],
            disbursement_date=when,
            acting_user=self.users[roles.FINANCE],
        )

    # -- money in
    def _post(self, plan, when, amount):
        self.serial += 1
        return repayment_post(
            loan_id=self.loan_ids[plan.index],
            amount=amount,
            value_date=when,
            acting_user=SYSTEM,  # the payment feed, not a person
            external_reference=f"DEMO{when:%Y%m%d}{self.serial:07d}",
            channel=self.rng.choice(CHANNELS),
        )

    def pay_due(self, plan, when, round_up=False, fraction=None, cap=None):
        loan_id = self.loan_ids[plan.index]
        due, credit = _amount_due(loan_id, when)
        amount = _due_amount(due, credit, round_up=round_up, fraction=fraction, cap=cap)
        if amount is None:
            loan_credit_apply(loan_id=loan_id, as_of=when, acting_user=SYSTEM)
        elif amount > 0:
            self._post(plan, when, amount)

    def pay_and_bounce(self, plan, when):
        due, credit = _amount_due(self.loan_ids[plan.index], when)
        if due - credit <= 0:
            return
        result = self._post(plan, when, due - credit)
        repayment_reverse(
            transaction_id=result.transaction.pk,
            reason=REVERSAL_REASON,
            acting_user=self.users[roles.FINANCE],
        )

    def payoff(self, plan, when, round_up=False):
        loan = Loan.objects.get(pk=self.loan_ids[plan.index])
        quote = loan_payoff_quote(loan, when)
        amount = quote.amount
        if round_up or amount <= 0:
            amount = to_multiple(amount + Decimal("0.01"), HUNDRED, up=True)
        self._post(plan, when, amount)

    def write_off(self, plan, when, reason):
        loan_write_off(
            loan_id=self.loan_ids[plan.index],
            reason=reason,
            value_date=when,
            acting_user=self.users[roles.FINANCE],
        )

    def refund(self, plan, when):
        loan_id = self.loan_ids[plan.index]
        if Loan.objects.filter(pk=loan_id, credit_balance__gt=0).exists():
            loan_credit_refund(
                loan_id=loan_id,
                acting_user=self.users[roles.FINANCE],
                note=REFUND_NOTE,
            )


def _demo_loans():
    return Loan.objects.filter(product__code__in=DEMO_PRODUCT_CODES)


def _summarize(*, already_loaded: bool, seed: int, today: date, risk=None) -> DemoSummary:
    loans = _demo_loans()
    by_status = Counter(dict(loans.values_list("status").annotate(n=Count("id")).order_by()))
    by_kind = dict(
        Transaction.objects.filter(loan__in=loans)
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    return DemoSummary(
        already_loaded=already_loaded,
        seed=seed,
        borrowers=Borrower.objects.count(),
        loans_by_status={status.value: by_status.get(status.value, 0) for status in LoanStatus},
        active_late=loans.filter(status=LoanStatus.ACTIVE, next_due_date__lt=today).count(),
        with_credit_balance=loans.filter(credit_balance__gt=0).count(),
        transactions=sum(by_kind.values()),
        transactions_by_kind=by_kind,
        logins=[(lg.username, lg.password, lg.group) for lg in DEMO_LOGINS],
        latent_risk=risk or {},
    )


REAL_NIGHTS = 2  # the last nights run for real; the ones before are demo history


class _SimRunner:
    """The same events as `_Runner`, through `DemoLedger` (the services' rules in memory):
    the book's history up to its last real nights. Shares the runner's random stream and
    payment serial, so where the history ends and the real nights begin changes no figure."""

    def __init__(self, runner: _Runner, ledger: DemoLedger):
        self.runner = runner
        self.ledger = ledger
        self.loans: dict[int, object] = {}  # plan index → SimLoan

    def run(self, plan: LoanPlan, when: date, kind: str, params: dict) -> None:
        getattr(self, kind)(plan, when, **params)

    def book(self, plan, when):
        pass

    def reject(self, plan, when, reason):
        pass

    def approve(self, plan, when):
        self.loans[plan.index] = self.ledger.book_approved(
            borrower=self.runner.borrowers[plan.borrower],
            product=self.runner.products[plan.product],
            principal=plan.principal,
            annual_rate=plan.rate,
            term_months=plan.term,
            purpose=plan.purpose,
            acting_user=SYSTEM,
            on=when,
        )

    def cancel(self, plan, when, reason):
        if plan.index in self.loans:
            self.ledger.cancel(
                self.loans[plan.index],
                reason=reason,
                acting_user=self.runner.users[roles.CREDIT_OFFICER],
            )

    def disburse(self, plan, when):
        self.ledger.disburse(
            self.loans[plan.index], on=when, acting_user=self.runner.users[roles.FINANCE]
        )

    def _post(self, plan, when, amount):
        runner = self.runner
        runner.serial += 1
        return self.ledger.repayment(
            self.loans[plan.index],
            amount=amount,
            value_date=when,
            acting_user=SYSTEM,
            external_reference=f"DEMO{when:%Y%m%d}{runner.serial:07d}",
            channel=runner.rng.choice(CHANNELS),
        )

    def pay_due(self, plan, when, round_up=False, fraction=None, cap=None):
        loan = self.loans[plan.index]
        due, credit = self.ledger.amount_due(loan, when)
        amount = _due_amount(due, credit, round_up=round_up, fraction=fraction, cap=cap)
        if amount is None:
            self.ledger.credit_apply(loan, as_of=when, acting_user=SYSTEM)
        elif amount > 0:
            self._post(plan, when, amount)

    def pay_and_bounce(self, plan, when):
        due, credit = self.ledger.amount_due(self.loans[plan.index], when)
        if due - credit <= 0:
            return
        payment = self._post(plan, when, due - credit)
        self.ledger.reverse(
            self.loans[plan.index],
            payment,
            reason=REVERSAL_REASON,
            acting_user=self.runner.users[roles.FINANCE],
        )

    def payoff(self, plan, when, round_up=False):
        amount = self.ledger.payoff_amount(self.loans[plan.index], when)
        if round_up or amount <= 0:
            amount = to_multiple(amount + Decimal("0.01"), HUNDRED, up=True)
        self._post(plan, when, amount)

    def write_off(self, plan, when, reason):
        self.ledger.write_off(
            self.loans[plan.index],
            reason=reason,
            value_date=when,
            acting_user=self.runner.users[roles.FINANCE],
        )

    def refund(self, plan, when):
        loan = self.loans[plan.index]
        if loan.model.credit_balance > 0:
            self.ledger.refund(
                loan, on=when, acting_user=self.runner.users[roles.FINANCE], note=REFUND_NOTE
            )


def _due_amount(due, credit, *, round_up, fraction, cap):
    """What a "pay what is due" event pays: None to spend the credit instead, 0 for nothing."""
    amount = due - credit
    if due > 0 and amount <= 0:
        return None
    if amount <= 0:
        return ZERO
    if fraction is not None:
        amount = max(YUAN, (amount * Decimal(fraction)).quantize(YUAN, rounding=ROUND_DOWN))
    if cap is not None:  # a part payment: never what clears the arrears
        amount = min(cap, max(YUAN, (amount / 2).quantize(YUAN, rounding=ROUND_DOWN)))
    if round_up:
        amount = to_multiple(amount + Decimal("0.01"), HUNDRED, up=True)
    return amount


def _load_history(events, plans, runner: _Runner, *, today: date, stdout, started) -> _SimRunner:
    """Events up to the last simulated night and the nights themselves, in memory; written."""
    first_night = today - timedelta(days=HISTORY_DAYS)
    cut = today - timedelta(days=REAL_NIGHTS + 1)
    ledger = DemoLedger(today=today)
    sim = _SimRunner(runner, ledger)
    by_day: dict[date, list] = {}
    for event in events:
        if event[0] <= cut:
            by_day.setdefault(event[0], []).append(event)
    days = sorted(
        set(by_day) | {first_night + timedelta(n) for n in range((cut - first_night).days + 1)}
    )
    for day in days:
        for when, index, _step, _order, kind, params in by_day.get(day, ()):
            sim.run(plans[index], when, kind, params)
        if day >= first_night:
            ledger.night(day, SYSTEM)
    _say(stdout, f"  history to {cut} computed ({time.perf_counter() - started:.1f} s)")
    ledger.write()
    nights = ledger.write_nights(SYSTEM)
    for index, loan in sim.loans.items():
        runner.loan_ids[index] = loan.model.pk
    _say(
        stdout,
        f"  written: {len(ledger.loans)} loans, {nights} nights of demo history "
        f"({time.perf_counter() - started:.1f} s)",
    )
    return sim


def _load_recent(events, plans, runner: _Runner, *, today: date, stdout) -> None:
    """The last days through the services, each closed by a real night; today's events last."""
    cut = today - timedelta(days=REAL_NIGHTS + 1)
    recent = [e for e in events if e[0] > cut]
    for n in range(1, REAL_NIGHTS + 1):
        day = cut + timedelta(days=n)
        for when, index, _step, _order, kind, params in recent:
            if when == day:
                runner.run(plans[index], when, kind, params)
        close_business_days(until=day, acting_user=SYSTEM)
    for when, index, _step, _order, kind, params in recent:
        if when == today:
            runner.run(plans[index], when, kind, params)


def load_demo_book(
    *,
    seed: int = DEFAULT_SEED,
    borrowers: int = DEFAULT_BORROWERS,
    stdout=None,
    today: date | None = None,
) -> DemoSummary:
    """Load the demo book once: logins, 3 products, `borrowers` borrowers and their loans.

    If the demo products exist already, nothing is changed and the summary describes the book
    that is there. The load is one database transaction: it lands whole or not at all.
    `today` (default: the real one, never later) pins the book: the same seed and day give
    the same book, which is what a test that fits a model on it needs.
    """
    if borrowers < 1:
        raise ValueError("borrowers must be at least 1")
    started = time.perf_counter()
    if today is not None and today > timezone.localdate():
        raise ValueError("the demo book cannot be loaded as of a future day")
    today = today or timezone.localdate()
    if LoanProduct.objects.filter(code__in=DEMO_PRODUCT_CODES).exists():
        summary = _summarize(already_loaded=True, seed=seed, today=today)
        _say(stdout, "The demo book is already loaded (its products exist): nothing changed.")
        for line in summary.lines():
            _say(stdout, line)
        return summary

    if BusinessDayRun.objects.exists():
        raise DemoRefused(
            "nights are already closed on this database: the demo book brings its own "
            "history of nights; load it on a fresh database"
        )
    with transaction.atomic():
        users, existing_logins = _ensure_logins()
        products = _create_products()
        _say(stdout, f"Products: {', '.join(products)}")

        profiles = demo_borrower_profiles(seed=seed, count=borrowers, today=today)
        db_borrowers = _create_borrowers(profiles)
        _say(stdout, f"Borrowers: {len(db_borrowers)} ({time.perf_counter() - started:.1f} s)")

        plans = plan_loans(seed=seed, profiles=profiles, today=today)
        events = sorted(
            (when, plan.index, step, order, kind, params)
            for plan in plans
            for step, (when, order, kind, params) in enumerate(plan.events)
        )
        scenarios = Counter(plan.scenario for plan in plans)
        _say(
            stdout,
            f"Planned {len(plans)} loans, {len(events)} events: "
            + ", ".join(f"{s} {scenarios[s]}" for s in ALL_SCENARIOS),
        )
        runner = _Runner(products=products, borrowers=db_borrowers, users=users, seed=seed)
        _load_history(events, plans, runner, today=today, stdout=stdout, started=started)
        _load_recent(events, plans, runner, today=today, stdout=stdout)
        _say(stdout, f"  {REAL_NIGHTS} real nights closed ({time.perf_counter() - started:.1f} s)")

        report = reconcile_loans(acting_user=SYSTEM, loan_ids=list(runner.loan_ids.values()))
        if not report.clean:
            raise RuntimeError(
                "the demo book does not reconcile: "
                + "; ".join(str(d) for d in report.differences[:5])
            )
        summary = _summarize(
            already_loaded=False,
            seed=seed,
            today=today,
            risk={p.national_id: round(p.risk, 6) for p in profiles},
        )
        summary.reconcile_clean = True
        summary.logins = [
            (user, "(existing account, unchanged)" if user in existing_logins else pw, group)
            for user, pw, group in summary.logins
        ]
    summary.seconds = time.perf_counter() - started
    for line in summary.lines():
        _say(stdout, line)
    _say(stdout, f"Loaded the demo book in {summary.seconds:.1f} s (seed {seed}).")
    return summary
