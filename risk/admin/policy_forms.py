"""The structured credit-policy editor: forms for each part of a definition, the definition
they add up to, and the pure validator's issues put back on the fields they name.

The forms check nothing about the policy: every figure goes into the definition as typed
(whole numbers as numbers, amounts and ratios as the strings the JSON keeps) and
`risk.policy.parse_policy` judges it, so the editor and a JSON import refuse exactly the same
things with the same words. A blank field is left out of the definition (the validator says
"is required"), or means "none" where the definition allows null (an open band end, the last
grade's cut-off, a hard rule switched off).
"""

import re
from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from risk.behaviour import BEHAVIOUR_KEYS, DEFAULT_RULES
from risk.models import CreditPolicy, EmploymentType
from risk.policy import EMPLOYMENT_TYPES, GRADES, OUTCOMES
from risk.reasons import ATTRIBUTES, CATEGORY, INTEGER

_WHOLE = re.compile(r"[+-]?[0-9]+")
_NULLABLE_BEHAVIOUR = ("cut_dpd", "increase_after_on_time")
_INTEGER_BEHAVIOUR = ("freeze_dpd", "cut_dpd", "restore_after_on_time", "increase_after_on_time")


def _whole(text: str):
    """A typed whole number as a number; anything else as typed, for the validator to name."""
    return int(text) if _WHOLE.fullmatch(text) else text


def _shown(value) -> str:
    """A definition value in a text box: numbers as written, null as blank."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _box(size: int = 8, **attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"size": size, "autocomplete": "off", **attrs})


def _figure(label, *, size: int = 8, help_text="") -> forms.CharField:
    return forms.CharField(
        label=label, required=False, strip=True, widget=_box(size), help_text=help_text
    )


def attribute_label(attribute: str) -> str:
    return gettext(ATTRIBUTES[attribute][1]) if attribute in ATTRIBUTES else attribute


def _attribute_choices(*, banded: bool):
    return [("", "---------")] + [
        (name, f"{attribute_label(name)} ({name})")
        for name, (kind, _label) in ATTRIBUTES.items()
        if not banded or kind != CATEGORY
    ]


class VersionForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100, widget=_box(50))
    notes = forms.CharField(
        label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80})
    )
    base_points = _figure(_("base points"), help_text=_("every score starts here"))
    rounding = _figure(_("limit rounding"), help_text=_("limits round down to a multiple of this"))


class HardRulesForm(forms.Form):
    min_age = _figure(_("minimum age"))
    max_age = _figure(_("maximum age"))
    max_inquiries_6m = _figure(
        _("most credit inquiries in 6 months"), help_text=_("blank: rule off")
    )
    decline_blacklisted = forms.BooleanField(label=_("decline the blacklisted"), required=False)
    decline_currently_overdue = forms.BooleanField(
        label=_("decline borrowers overdue now (here or elsewhere)"), required=False
    )
    refer_income_unverified = forms.BooleanField(
        label=_("refer when income is not verified"), required=False
    )
    refer_if_missing = forms.MultipleChoiceField(
        label=_("refer when missing"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["refer_if_missing"].choices = [
            (name, attribute_label(name)) for name in ATTRIBUTES
        ]


class CharacteristicForm(forms.Form):
    attribute = forms.ChoiceField(label=_("attribute"), choices=(), required=False)
    label = forms.CharField(label=_("label"), required=False, widget=_box(30))
    missing_points = _figure(_("points when missing"), size=6)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attribute"].choices = _attribute_choices(banded=False)
        attribute = self.initial.get("attribute")
        if attribute in ATTRIBUTES:  # the label the scorecard uses when this one is blank
            self.fields["label"].widget.attrs["placeholder"] = attribute_label(attribute)


class BandForm(forms.Form):
    attribute = forms.ChoiceField(label=_("attribute"), choices=(), required=False)
    min = _figure(_("lower end"), size=10, help_text=_("blank: no lower end"))
    max = _figure(_("upper end"), size=10, help_text=_("blank: no upper end"))
    points = _figure(_("points"), size=6)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attribute"].choices = _attribute_choices(banded=True)


class CategoriesForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(EmploymentType.choices)
        for name in EMPLOYMENT_TYPES:
            self.fields[name] = _figure(labels.get(name, name), size=6)


class GradeForm(forms.Form):
    min_score = _figure(_("lowest score"), size=6)
    outcome = forms.ChoiceField(label=_("outcome"), choices=(), required=False)
    income_multiple = _figure(_("income multiple"), size=6)
    dti_ceiling = _figure(_("debt-to-income ceiling"), size=6)
    min_limit = _figure(_("minimum limit"), size=10)
    max_limit = _figure(_("maximum limit"), size=10)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [
            ("approve", _("approve")),
            ("refer", _("refer")),
            ("decline", _("decline")),
        ]


class BehaviourForm(forms.Form):
    freeze_dpd = _figure(_("freeze at days past due"), size=6)
    cut_dpd = _figure(_("cut at days past due"), size=6)
    cut_dpd_off = forms.BooleanField(label=_("no cuts"), required=False)
    cut_to = _figure(_("share a cut keeps"), size=6)
    restore_after_on_time = _figure(_("restore after on-time installments"), size=6)
    increase_after_on_time = _figure(_("propose an increase after on-time installments"), size=6)
    increase_after_on_time_off = forms.BooleanField(label=_("no proposals"), required=False)
    increase_by = _figure(_("increase by (share)"), size=6)
    increase_cap = _figure(_("highest limit an increase reaches"), size=10)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key in BEHAVIOUR_KEYS:  # a blank field takes the default: show it
            default = getattr(DEFAULT_RULES, key)
            self.fields[key].widget.attrs["placeholder"] = _shown(default)


CharacteristicFormSet = forms.formset_factory(CharacteristicForm, extra=1, can_delete=True)
BandFormSet = forms.formset_factory(BandForm, extra=2, can_delete=True)
GradeFormSet = forms.formset_factory(GradeForm, extra=0, min_num=5, max_num=5, absolute_max=5)


# --------------------------------------------------------------------------- initial values


def initial_values(definition: dict) -> dict:
    """Each form's initial data from a definition (the inverse of `PolicyEditor.definition`)."""
    hard = definition.get("hard_rules") or {}
    scorecard = definition.get("scorecard") or {}
    characteristics, bands, categories = [], [], {}
    for item in scorecard.get("characteristics") or []:
        attribute = item.get("attribute")
        characteristics.append(
            {
                "attribute": attribute,
                "label": item.get("label", ""),
                "missing_points": _shown(item.get("missing_points")),
            }
        )
        for band in item.get("bands") or []:
            bands.append(
                {
                    "attribute": attribute,
                    "min": _shown(band.get("min")),
                    "max": _shown(band.get("max")),
                    "points": _shown(band.get("points")),
                }
            )
        if "categories" in item:
            categories = {name: _shown(p) for name, p in (item["categories"] or {}).items()}
    outcome_of = {
        grade: outcome
        for outcome, grades in (definition.get("outcomes") or {}).items()
        for grade in grades or []
    }
    cuts = {g.get("grade"): g.get("min_score") for g in definition.get("grades") or []}
    limits = definition.get("limits") or {}
    grades = [
        {
            "min_score": _shown(cuts.get(grade)),
            "outcome": outcome_of.get(grade, ""),
            **{key: _shown((limits.get(grade) or {}).get(key)) for key in LIMIT_KEYS},
        }
        for grade in GRADES
    ]
    behaviour = definition.get("behaviour") or {}
    behaviour_initial = {key: _shown(behaviour.get(key)) for key in BEHAVIOUR_KEYS}
    for key in _NULLABLE_BEHAVIOUR:
        behaviour_initial[f"{key}_off"] = key in behaviour and behaviour[key] is None
    return {
        "version": {
            "base_points": _shown(scorecard.get("base_points")),
            "rounding": _shown(definition.get("rounding")),
        },
        "hard": {
            "min_age": _shown(hard.get("min_age")),
            "max_age": _shown(hard.get("max_age")),
            "max_inquiries_6m": _shown(hard.get("max_inquiries_6m")),
            "decline_blacklisted": hard.get("decline_blacklisted") is True,
            "decline_currently_overdue": hard.get("decline_currently_overdue") is True,
            "refer_income_unverified": hard.get("refer_income_unverified") is True,
            "refer_if_missing": list(hard.get("refer_if_missing") or []),
        },
        "characteristics": characteristics,
        "bands": bands,
        "categories": categories,
        "grades": grades,
        "behaviour": behaviour_initial,
    }


LIMIT_KEYS = ("income_multiple", "dti_ceiling", "min_limit", "max_limit")


# --------------------------------------------------------------------------- the editor


@dataclass
class Place:
    """Where an issue is shown: a form and one of its fields (None: the whole row), and the
    words that name it in the list of problems."""

    form: forms.Form | None
    field: str | None
    where: str


@dataclass
class PolicyEditor:
    """Every form of the page, bound or not, and the definition they make."""

    version: VersionForm
    hard: HardRulesForm
    characteristics: forms.BaseFormSet
    bands: forms.BaseFormSet
    categories: CategoriesForm
    grades: forms.BaseFormSet
    behaviour: BehaviourForm
    original: dict
    places: dict[str, Place] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # "where: message", in order

    @classmethod
    def build(
        cls, *, definition: dict, policy: CreditPolicy | None = None, data=None, disabled=False
    ):
        initial = initial_values(definition)
        version_initial = dict(initial["version"])
        if policy is not None:
            version_initial.update(name=policy.name, notes=policy.notes)
        editor = cls(
            version=VersionForm(data, prefix="version", initial=version_initial),
            hard=HardRulesForm(data, prefix="hard", initial=initial["hard"]),
            characteristics=CharacteristicFormSet(
                data, prefix="ch", initial=initial["characteristics"]
            ),
            bands=BandFormSet(data, prefix="band", initial=initial["bands"]),
            categories=CategoriesForm(data, prefix="cat", initial=initial["categories"]),
            grades=GradeFormSet(data, prefix="grade", initial=initial["grades"]),
            behaviour=BehaviourForm(data, prefix="behaviour", initial=initial["behaviour"]),
            original=definition,
        )
        if disabled:
            for form in editor.all_forms():
                for f in form.fields.values():
                    f.disabled = True
        for grade, form in zip(GRADES, editor.grades.forms, strict=False):
            form.grade = grade
        return editor

    def all_forms(self):
        yield self.version
        yield self.hard
        yield from self.characteristics.forms
        yield from self.bands.forms
        yield self.categories
        yield from self.grades.forms
        yield self.behaviour

    # ---- reading the forms

    def forms_valid(self) -> bool:
        """The forms' own checks: the name, the choices, the formsets' management data."""
        return all(  # a list, not a generator: every form cleaned, whatever comes first
            [
                part.is_valid()
                for part in (
                    self.version,
                    self.hard,
                    self.characteristics,
                    self.bands,
                    self.categories,
                    self.grades,
                    self.behaviour,
                )
            ]
        )

    @staticmethod
    def _kept(formset) -> list[tuple[int, forms.Form]]:
        """(row number from 1, form) of the rows filled in and not marked for deletion."""
        kept = []
        for i, form in enumerate(formset.forms):
            data = getattr(form, "cleaned_data", None) or {}
            if not form.has_changed() and i >= formset.initial_form_count():
                continue  # an empty extra row
            if data.get("DELETE"):
                continue
            kept.append((i + 1, form))
        return kept

    def definition(self) -> dict:
        """The definition the forms add up to, and where each part of it came from."""
        self.forms_valid()  # cleaned_data on every form, whatever their errors
        places = self.places
        out: dict = {}

        # hard rules
        hard = self.hard.cleaned_data
        rules: dict = {}
        label = gettext("Hard rules")
        for key in ("min_age", "max_age"):
            if hard.get(key):
                rules[key] = _whole(hard[key])
            places[f"hard_rules.{key}"] = Place(self.hard, key, self._name(label, self.hard, key))
        text = hard.get("max_inquiries_6m", "")
        rules["max_inquiries_6m"] = _whole(text) if text else None
        for key in ("decline_blacklisted", "decline_currently_overdue", "refer_income_unverified"):
            rules[key] = bool(hard.get(key))
        for key in ("max_inquiries_6m", "decline_blacklisted", "decline_currently_overdue"):
            places[f"hard_rules.{key}"] = Place(self.hard, key, self._name(label, self.hard, key))
        for key in ("refer_income_unverified", "refer_if_missing"):
            places[f"hard_rules.{key}"] = Place(self.hard, key, self._name(label, self.hard, key))
        chosen = hard.get("refer_if_missing") or []
        before = list((self.original.get("hard_rules") or {}).get("refer_if_missing") or [])
        if chosen or "refer_if_missing" in (self.original.get("hard_rules") or {}):
            # The stored order where the choice is unchanged: it orders the referral reasons.
            order = {name: i for i, name in enumerate([*before, *ATTRIBUTES])}
            rules["refer_if_missing"] = sorted(chosen, key=order.__getitem__)
        out["hard_rules"] = rules
        places["hard_rules"] = Place(self.hard, None, label)

        # scorecard
        version = self.version.cleaned_data
        scorecard: dict = {}
        if version.get("base_points"):
            scorecard["base_points"] = _whole(version["base_points"])
        places["scorecard.base_points"] = Place(
            self.version,
            "base_points",
            self._name(gettext("Scorecard"), self.version, "base_points"),
        )
        characteristics = []
        by_attribute: dict[str, dict] = {}
        for position, (row, form) in enumerate(self._kept(self.characteristics)):
            data = form.cleaned_data
            attribute = data.get("attribute") or ""
            named = attribute_label(attribute) if attribute else "?"
            where = gettext("Characteristic %(row)s (%(name)s)") % {"row": row, "name": named}
            places[f"scorecard.characteristics[{position}]"] = Place(form, "attribute", where)
            item: dict = {"attribute": attribute or None}
            if data.get("label"):
                item["label"] = data["label"]
            if data.get("missing_points"):
                item["missing_points"] = _whole(data["missing_points"])
            kind = ATTRIBUTES.get(attribute, (None,))[0]
            if kind == CATEGORY:
                item["categories"] = {}
                for name in EMPLOYMENT_TYPES:
                    text = self.categories.cleaned_data.get(name, "")
                    if text:
                        item["categories"][name] = _whole(text)
                    label = self.categories.fields[name].label
                    place = gettext("Points by employment type: %(type)s") % {"type": label}
                    places[f"scorecard.{attribute}.categories.{name}"] = Place(
                        self.categories, name, place
                    )
                places[f"scorecard.{attribute}.categories"] = Place(
                    self.categories, None, gettext("Points by employment type")
                )
            elif kind is not None:
                item["bands"] = []
            characteristics.append(item)
            if attribute and attribute not in by_attribute:
                by_attribute[attribute] = item
                places[f"scorecard.{attribute}"] = Place(form, None, where)
                for key in ("label", "missing_points"):
                    places[f"scorecard.{attribute}.{key}"] = Place(
                        form, key, self._name(where, form, key)
                    )
                places[f"scorecard.{attribute}.bands"] = Place(form, None, where)
        for row, form in self._kept(self.bands):
            data = form.cleaned_data
            attribute = data.get("attribute") or ""
            item = by_attribute.get(attribute)
            if item is None or "bands" not in item:
                form.add_error(
                    "attribute",
                    gettext(
                        "no characteristic scores this attribute: add it above or delete the band"
                    ),
                )
                self.problems.append(
                    gettext("Band row %(row)s: no characteristic scores this attribute")
                    % {"row": row}
                )
                continue
            integer = ATTRIBUTES[attribute][0] == INTEGER
            index = len(item["bands"])
            band = {}
            for key in ("min", "max"):
                text = data.get(key, "")
                band[key] = (_whole(text) if integer else text) if text else None
            if data.get("points"):
                band["points"] = _whole(data["points"])
            item["bands"].append(band)
            where = gettext("Band %(n)s of %(name)s") % {
                "n": index + 1,
                "name": attribute_label(attribute),
            }
            path = f"scorecard.{attribute}.bands[{index}]"
            places[path] = Place(form, None, where)
            for key in ("min", "max", "points"):
                places[f"{path}.{key}"] = Place(form, key, self._name(where, form, key))
        scorecard["characteristics"] = characteristics
        out["scorecard"] = scorecard

        # grades, limits and outcomes, one row per grade
        cuts, limits = [], {}
        outcomes: dict[str, list[str]] = {o: [] for o in OUTCOMES}
        grades_place = Place(None, None, gettext("Grades and limits"))
        for path in ("grades", "outcomes", "limits"):
            places[path] = grades_place
        for i, (grade, form) in enumerate(zip(GRADES, self.grades.forms, strict=False)):
            data = getattr(form, "cleaned_data", {}) or {}
            where = gettext("Grade %(grade)s") % {"grade": grade}
            text = data.get("min_score", "")
            cuts.append({"grade": grade, "min_score": _whole(text) if text else None})
            places[f"grades[{i}]"] = Place(form, None, where)
            places[f"grades[{i}].min_score"] = Place(
                form, "min_score", self._name(where, form, "min_score")
            )
            if data.get("outcome") in outcomes:
                outcomes[data["outcome"]].append(grade)
            places[f"limits.{grade}"] = Place(form, None, where)
            rule = {}
            for key in LIMIT_KEYS:
                if data.get(key):
                    rule[key] = data[key]
                places[f"limits.{grade}.{key}"] = Place(form, key, self._name(where, form, key))
            limits[grade] = rule
        out["grades"] = cuts
        out["limits"] = limits
        out["outcomes"] = {o: grades for o, grades in outcomes.items() if grades}
        if version.get("rounding"):
            out["rounding"] = version["rounding"]
        places["rounding"] = Place(
            self.version, "rounding", self._name("", self.version, "rounding")
        )

        # the limit review's section: blank fields take the defaults
        behaviour = self.behaviour.cleaned_data
        section: dict = {}
        review = gettext("Limit review")
        for key in BEHAVIOUR_KEYS:
            places[f"behaviour.{key}"] = Place(
                self.behaviour, key, self._name(review, self.behaviour, key)
            )
            if behaviour.get(f"{key}_off"):
                section[key] = None
            elif behaviour.get(key):
                text = behaviour[key]
                section[key] = _whole(text) if key in _INTEGER_BEHAVIOUR else text
        places["behaviour"] = Place(self.behaviour, None, review)
        if section or "behaviour" in self.original:
            out["behaviour"] = section
        return out

    @staticmethod
    def _name(where: str, form: forms.Form, key: str) -> str:
        label = str(form.fields[key].label)
        return f"{where} · {label}" if where else label

    # ---- the validator's issues, put where they belong

    def place(self, rule: str) -> Place | None:
        path = rule
        while path:
            if path in self.places:
                return self.places[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return None

    def show(self, issues: list[tuple[str, str]]) -> None:
        """Each issue (rule path, message in the reader's language) on its field, and in the
        list at the top naming the rule, row and field."""
        for rule, message in issues:
            place = self.place(rule)
            if place is None:
                self.problems.append(f"{message} [{rule}]")
                continue
            if place.form is not None:
                place.form.add_error(place.field, message)
            self.problems.append(
                gettext("%(where)s: %(message)s") % {"where": place.where, "message": message}
                + f" [{rule}]"
            )

    def name_errors(self) -> None:
        """The forms' own refusals (a missing name) in the list at the top too."""
        for key, errors in self.version.errors.items():
            if key in self.version.fields:
                label = self.version.fields[key].label
                for error in errors:
                    self.problems.append(f"{label}: {error}")
        for formset in (self.characteristics, self.bands, self.grades):
            for error in formset.non_form_errors():
                self.problems.append(str(error))
