"""docs/exports.md shows exactly who may take each export, as the role table grants it."""

import re
from pathlib import Path

from debt_collection.exports import CaseByBorrowerExport, CaseExport
from lending import roles
from lending.access import Perm
from lending.close_of_business.exports import RunExport, RunStepExport
from lending.exports import ExportPerm, LoanExport, OverdueExport, ScheduleExport

DOC = Path(__file__).resolve().parents[2] / "docs" / "exports.md"
TABLE = re.compile(r"<!-- export table begin[^\n]*\n(.*?)<!-- export table end -->", re.S)
KINDS = [
    LoanExport,
    ScheduleExport,
    OverdueExport,
    CaseExport,
    CaseByBorrowerExport,
    RunExport,
    RunStepExport,
]


def export_table() -> str:
    def row(name, *perms):
        held = [
            "yes" if all(str(p) in roles.role_codenames(r) for p in perms) else "—"
            for r in roles.ROLES
        ]
        needs = " + ".join(f"`{p}`" for p in perms)
        return f"| {name} | {needs} | " + " | ".join(held) + " |"

    lines = [
        "| Export | needs | " + " | ".join(roles.ROLES) + " |",
        "|---|---|" + "---|" * len(roles.ROLES),
        *(row(f"`{kind.kind}`", kind.permission, kind.reads) for kind in KINDS),
        row("unmasked national ID / mobile", Perm.VIEW_PII, ExportPerm.EXPORT_PII),
    ]
    return "\n".join(lines) + "\n"


def test_the_doc_shows_exactly_who_may_export_what():
    found = TABLE.findall(DOC.read_text(encoding="utf-8"))
    assert len(found) == 1, "docs/exports.md needs one table between its begin/end markers"
    assert found[0] == export_table(), "docs/exports.md is out of date:\n" + export_table()
