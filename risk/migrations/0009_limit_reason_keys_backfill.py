"""Give credit limit changes and increase proposals stored before 0008 the message keys of the
reasons the platform wrote (issue 13).

Until then the nightly review, the first limit and an approved proposal stored English
sentences. Each stored reason is read back against the English templates of the keys those
writers use now (`risk.reasons.MESSAGES`: "limit.first", "limit.increase_approved",
"review.*"); a parse is kept only when rendering it again gives exactly the stored text (so a
reason cut at 255 characters, a person's words or an older wording keeps no key and is shown
as stored). An approved proposal's own reason, quoted after "approved: ", is nested when it
reads as the review's proposal, and kept as the analyst's words otherwise. The keys are stable
by contract (risk.reasons), which is why this may use the live templates, and the template
reader of migration 0006. Reversing it drops the keys again.
"""

import importlib
from decimal import InvalidOperation

from django.db import migrations

BATCH = 500
KEYS = (
    "limit.first",
    "review.freeze.one",
    "review.freeze",
    "review.cut.one",
    "review.cut",
    "review.restore.since.one",
    "review.restore.since",
    "review.restore.one",
    "review.restore",
    "review.propose.one",
    "review.propose",
)
_INTEGERS = {
    "version",
    "proposal",
    "dpd",
    "freeze_dpd",
    "cut_dpd",
    "count",
    "restore_after",
    "propose_after",
}


class _Reader:
    def __init__(self):
        from risk import reasons as rc

        earlier = importlib.import_module("risk.migrations.0006_reason_message_keys")
        self.rc = rc
        self.decimal = earlier._decimal
        self.patterns = [(key, earlier._pattern(rc.MESSAGES[key])) for key in KEYS]
        self.approved = earlier._pattern(rc.MESSAGES["limit.increase_approved"])

    def params(self, groups: dict) -> dict:
        params = {}
        for name, raw in groups.items():
            if name in _INTEGERS:
                params[name] = int(raw.replace(",", ""))
            elif name in self.rc.PARAM_KINDS:
                params[name] = self.decimal(raw, self.rc.PARAM_KINDS[name])
            else:
                params[name] = raw
        return params

    def read(self, text: str):
        """(key, params) of a stored reason, or None."""
        for key, pattern in self.patterns:
            match = pattern.match(text)
            if match is None:
                continue
            try:
                params = self.params(match.groupdict())
                if self.rc.render(key, params) == text:
                    return key, params
            except (KeyError, ValueError, TypeError, IndexError, InvalidOperation):
                continue
        match = self.approved.match(text)
        if match is None:
            return None
        try:
            proposal = int(match["proposal"])
        except ValueError:
            return None
        quoted = self.read(match["reason"])
        nested = {"message": quoted[0], "params": quoted[1]} if quoted else match["reason"]
        params = {"proposal": proposal, "reason": nested}
        if self.rc.render("limit.increase_approved", params) != text:
            return None
        return "limit.increase_approved", params


def _backfill(model, reader) -> None:
    unkeyed = model.objects.filter(reason_message="").exclude(reason="")
    batch = []
    for row in unkeyed.only("id", "reason").iterator(chunk_size=BATCH):
        found = reader.read(row.reason)
        if found is None:
            continue
        row.reason_message, row.reason_params = found
        batch.append(row)
        if len(batch) >= BATCH:
            model.objects.bulk_update(batch, ["reason_message", "reason_params"])
            batch = []
    if batch:
        model.objects.bulk_update(batch, ["reason_message", "reason_params"])


def forwards(apps, schema_editor):
    reader = _Reader()
    for name in ("CreditLimitChange", "LimitIncreaseProposal"):
        _backfill(apps.get_model("risk", name), reader)


def backwards(apps, schema_editor):
    for name in ("CreditLimitChange", "LimitIncreaseProposal"):
        apps.get_model("risk", name).objects.update(reason_message="", reason_params={})


class Migration(migrations.Migration):
    dependencies = [("risk", "0008_limit_reason_message_keys")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
