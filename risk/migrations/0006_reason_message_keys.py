"""Give decisions stored before issue 13 the message keys their reasons and trace lines now carry.

Until then a decision stored only English sentences (`text`, `detail`). This reads each sentence
back against the English templates of `risk.reasons.MESSAGES` and, where one matches, stores its
key and parameters beside the text, so the row renders in the reader's language like a new one.
A parse is kept only when rendering it again gives exactly the stored sentence; anything else
(a wording from an older version, a custom policy label that cannot be told apart) keeps no key
and is shown as stored. The keys are stable by contract (risk.reasons), which is why this
migration may use the live templates. Reversing it drops the keys again.
"""

import re
from decimal import Decimal, InvalidOperation

from django.db import migrations

BATCH = 500
_PLACEHOLDER = re.compile(r"%\((\w+)\)([+]?d|s)")
_INTEGERS = {"age", "min_age", "max_age", "count", "max_count", "score", "cut_off", "lost"}


def _pattern(template: str, label: str = ".+?") -> re.Pattern:
    """The template as a regex; `label` is what the label may be (known labels first, so
    "employment type 'pilot'" is not read as the label "employment" of the value "type ...")."""
    parts, seen, last = [], set(), 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        name, conversion = match.groups()
        if name in seen:
            parts.append(f"(?P={name})")
        elif conversion.endswith("d"):
            seen.add(name)
            parts.append(f"(?P<{name}>[+-]\\d+)")
        else:
            seen.add(name)
            parts.append(f"(?P<{name}>{label if name == 'label' else '.+?'})")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts) + r"\Z")


def _decimal(text: str, kind: str) -> str:
    """ "10,000.00" -> "10000.00"; "42.9%" -> "0.429" (raises InvalidOperation on anything else)."""
    if kind == "ratio":
        if not text.endswith("%"):
            raise InvalidOperation(text)
        return str(Decimal(text[:-1].replace(",", "")) / 100)
    return str(Decimal(text.replace(",", "")))


class _Reader:
    def __init__(self):
        from risk import reasons as rc

        self.rc = rc
        self.labels = {label: attribute for attribute, (_kind, label) in rc.ATTRIBUTES.items()}
        # Fewest placeholders first: "age not on file" is "age.missing", not "missing" of "age".
        keys = sorted(
            (key for key in rc.MESSAGES if key != "outcome.reasons"),
            key=lambda key: (len(_PLACEHOLDER.findall(rc.MESSAGES[key])), -len(rc.MESSAGES[key])),
        )
        known = "|".join(re.escape(label) for label in sorted(self.labels, key=len, reverse=True))
        self.patterns = [(key, _pattern(rc.MESSAGES[key], f"(?:{known})")) for key in keys]
        self.patterns += [
            (key, _pattern(rc.MESSAGES[key])) for key in keys if "%(label)" in rc.MESSAGES[key]
        ]
        self.bands = [(key, _pattern(t)) for key, t in rc.BAND_MESSAGES.items()]
        self.memo: dict = {}

    def band(self, text: str, kind: str | None):
        for key, pattern in self.bands:
            match = pattern.match(text)
            if match is None:
                continue
            bounds = match.groupdict()
            if key == "exactly":
                bounds["hi"] = bounds["lo"]
            values = []
            for name in ("lo", "hi"):
                raw = bounds.get(name)
                if raw is None:
                    values.append(None)
                elif kind == self.rc.INTEGER:
                    values.append(int(raw))
                else:
                    values.append(_decimal(raw, kind))
            return values
        raise ValueError(text)

    def params(self, groups: dict, attribute: str | None) -> dict:
        rc = self.rc
        params: dict = {}
        label = groups.pop("label", None)
        if label is not None:
            attribute = attribute or self.labels.get(label)
            if attribute is None:
                raise ValueError(label)
            params["attribute"] = attribute
            if label != rc.ATTRIBUTES.get(attribute, (None, None))[1]:
                params["label"] = label
        kind = rc.ATTRIBUTES[attribute][0] if attribute in rc.ATTRIBUTES else None
        for name, raw in groups.items():
            if name == "value":
                if kind == rc.INTEGER:
                    params[name] = int(raw)
                elif kind in (rc.MONEY, rc.RATIO):
                    params[name] = _decimal(raw, kind)
                else:
                    params[name] = raw
            elif name == "band":
                params[name] = self.band(raw, kind)
            elif name == "points" or name in _INTEGERS:
                params[name] = int(raw)
            elif name in rc.PARAM_KINDS:
                params[name] = _decimal(raw, rc.PARAM_KINDS[name])
            else:
                params[name] = raw
        return params

    def read(self, text: str, attribute: str | None = None):
        """(key, params) of an English sentence, or None."""
        memo_key = (text, attribute)
        if memo_key not in self.memo:
            self.memo[memo_key] = self._read(text, attribute)
        return self.memo[memo_key]

    def _read(self, text, attribute):
        for key, pattern in self.patterns:
            match = pattern.match(text)
            if match is None:
                continue
            try:
                params = self.params(dict(match.groupdict()), attribute)
                if self.rc.render(key, params) == text:
                    return key, params
            except (KeyError, ValueError, TypeError, IndexError, InvalidOperation):
                continue
        return None


def _attribute_of(rule: str) -> str | None:
    head, _dot, rest = rule.partition(".")
    if head == "scorecard":
        return rest
    if rest.startswith("refer_if_missing."):
        return rest.removeprefix("refer_if_missing.")
    return None


def _convert(decision, reader) -> bool:
    changed = False
    for reason in decision.reasons or []:
        if not isinstance(reason, dict) or reason.get("message") or not reason.get("text"):
            continue
        found = reader.read(reason["text"], reason.get("attribute"))
        if found:
            reason["message"], reason["params"] = found
            changed = True
    for step in decision.trace or []:
        if not isinstance(step, dict) or step.get("message") or not step.get("detail"):
            continue
        if step.get("rule") == "outcome":
            keyed = [r for r in decision.reasons or [] if isinstance(r, dict)]
            joined = "; ".join(r.get("text", "") for r in keyed)
            if keyed and all(r.get("message") for r in keyed) and joined == step["detail"]:
                step["message"] = "outcome.reasons"
                step["params"] = {
                    "reasons": [{"message": r["message"], "params": r["params"]} for r in keyed]
                }
                changed = True
                continue
        found = reader.read(step["detail"], _attribute_of(step.get("rule", "")))
        if found:
            step["message"], step["params"] = found
            changed = True
    return changed


def forwards(apps, schema_editor):
    Decision = apps.get_model("risk", "Decision")
    reader = _Reader()
    batch = []
    for decision in Decision.objects.only("id", "reasons", "trace").iterator(chunk_size=BATCH):
        if _convert(decision, reader):
            batch.append(decision)
        if len(batch) >= BATCH:
            Decision.objects.bulk_update(batch, ["reasons", "trace"])
            batch = []
    if batch:
        Decision.objects.bulk_update(batch, ["reasons", "trace"])


def backwards(apps, schema_editor):
    Decision = apps.get_model("risk", "Decision")
    batch = []
    for decision in Decision.objects.only("id", "reasons", "trace").iterator(chunk_size=BATCH):
        for row in [*(decision.reasons or []), *(decision.trace or [])]:
            if isinstance(row, dict):
                row.pop("message", None)
                row.pop("params", None)
        batch.append(decision)
        if len(batch) >= BATCH:
            Decision.objects.bulk_update(batch, ["reasons", "trace"])
            batch = []
    if batch:
        Decision.objects.bulk_update(batch, ["reasons", "trace"])


class Migration(migrations.Migration):
    dependencies = [("risk", "0005_operation_permissions")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
