"""Running one file of one kind: every row through the kind's handler (and so through the
services), each row's fate, and whether anything is written.

The whole file runs in one transaction, each row in a savepoint:

* a dry run rolls the transaction back at the end, so it shows exactly what the services
  would do (waterfalls, the compliance guard, refusals) and writes nothing;
* all-or-nothing (the default): one error row and the transaction is rolled back;
* "valid rows only": an error row's savepoint is rolled back, the rest is committed.

Within the file, a key (national ID, reference, external id) seen on an earlier row makes a
later row a duplicate when it says the same thing and an error naming the difference when it
does not; the earlier row still imports. Against rows imported before, the services decide
(an idempotency key posted before is a duplicate; an unchanged borrower is skipped).
"""

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from imports.problems import Problem
from imports.reading import Table, is_blank, read_table
from imports.registry import Kind
from lending.access import require
from lending.errors import LendingError

MAX_VALUE_CHARS = 100  # a value shown in an error is cut to this


class Fate(StrEnum):
    NEW = "new"
    UPDATE = "update"
    SKIP = "skip"
    DUPLICATE = "duplicate"
    ERROR = "error"


# The fates as pages show them (`{% translate row.fate %}`): marked for makemessages here.
FATE_WORDS = (
    gettext_noop("new"),
    gettext_noop("update"),
    gettext_noop("skip"),
    gettext_noop("duplicate"),
    gettext_noop("error"),
)


class CellError(Exception):
    """A cell the kind cannot use: its column key, the message, and the value."""

    def __init__(self, column: str, message: str, value: Any = ""):
        super().__init__(message)
        self.column, self.message, self.value = column, message, value


@dataclass
class Parsed:
    values: dict[str, Any]
    key: str  # what the row is keyed by (national ID, reference, external id)
    # What the row says beyond its key, {column key: value}: the same key with the same
    # identity on a later row is a duplicate; with another, an error naming the columns.
    identity: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    fate: Fate
    note: str = ""


@dataclass
class RowResult:
    row: int
    fate: Fate
    column: str = ""  # as the file names it
    value: str = ""
    message: str = ""
    code: str = ""

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }

    def sentence(self) -> str:
        """ "row 17, column 身份证号: checksum digit should be 3, got 5"."""
        if self.column:
            return _("row %(row)s, column %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("row %(row)s: %(message)s") % {"row": self.row, "message": self.message}


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    results: list[RowResult] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    table: Table | None = None

    def count(self, fate: Fate) -> int:
        return sum(1 for r in self.results if r.fate == fate)

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.results if r.fate == Fate.ERROR]

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "new": self.count(Fate.NEW),
            "updated": self.count(Fate.UPDATE),
            "skipped": self.count(Fate.SKIP),
            "duplicates": self.count(Fate.DUPLICATE),
            "errors": len(self.errors),
        }

    def as_json(self) -> dict:
        """The command's last line and the API's answer (issue 12's shape)."""
        counts = self.counts()
        return {
            "kind": self.kind,
            "rows": counts["rows"],
            "new": counts["new"],
            "updated": counts["updated"],
            "skipped": counts["skipped"],
            "duplicates": counts["duplicates"],
            "errors": [r.as_dict() for r in self.errors],
            "written": self.written,
        }


class Row:
    """One data row as the handler reads it: cells by column key, parsed, errors naming the
    column."""

    def __init__(self, number: int, cells: list, table: Table):
        self.number, self.cells, self.table = number, cells, table

    def raw(self, key: str):
        position = self.table.columns.get(key)
        return None if position is None else self.cells[position]

    def has(self, key: str) -> bool:
        return not is_blank(self.raw(key))

    def get(self, key: str, parser: Callable | None = None, *, required: bool = False):
        """The cell parsed (None when blank and not required)."""
        value = self.raw(key)
        if is_blank(value):
            if required:
                raise CellError(key, _("is required"), "")
            return None
        if parser is None:
            return value
        try:
            return parser(value)
        except Problem as exc:
            raise CellError(key, exc.text(_), value) from None


def shown(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _difference(kind: Kind, table: Table, earlier: Parsed, row_number: int, parsed: Parsed) -> str:
    changed = [k for k, v in parsed.identity.items() if earlier.identity.get(k) != v]
    if not changed:
        return ""
    parts = ", ".join(
        _("%(column)s: %(before)s on that row, %(now)s on this one")
        % {
            "column": table.header_of(k) if k in table.columns else k,
            "before": shown(earlier.identity.get(k)),
            "now": shown(parsed.identity[k]),
        }
        for k in changed
    )
    return _("%(key)s is already on row %(row)s with other values (%(parts)s)") % {
        "key": parsed.key,
        "row": row_number,
        "parts": parts,
    }


def run_import(
    *,
    kind: Kind,
    data: bytes,
    acting_user,
    dry_run: bool = False,
    valid_rows_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Read and run one file. Raises LendingError (permission) or reading.FileRefused for a
    file refused as a whole; every row's own problem is in the result."""
    require(acting_user, kind.permission, to=_("import %(kind)s") % {"kind": kind.name})
    with _collecting_new_objects_only() as collect:
        table = read_table(data, kind.specs())
        collect()
        return _run(kind, table, acting_user, dry_run, valid_rows_only, progress, collect)


def _run(kind, table, acting_user, dry_run, valid_rows_only, progress, collect) -> ImportResult:
    result = ImportResult(kind=kind.name, rows=len(table.rows), dry_run=dry_run, table=table)
    handler = kind.handler(acting_user)
    if hasattr(handler, "prepare"):
        handler.prepare(table)  # e.g. the file's loans looked up in bulk, once
    seen: dict[str, tuple[int, Parsed]] = {}
    batch = _Batch(kind, table, handler) if hasattr(handler, "apply_many") else None
    with transaction.atomic():
        for done, (number, cells) in enumerate(table.rows, start=1):
            if done % COLLECT_EVERY == 0:
                collect()
            if batch is None:
                result.results.append(_one_row(kind, table, handler, seen, number, cells))
            else:
                answer = _parsed_row(kind, table, handler, seen, number, cells)
                result.results.append(answer)
                if isinstance(answer, _Waiting) and batch.add(answer):
                    batch.run()
            if progress is not None:  # rows answered: a batch's count once it has run
                progress(done - (len(batch.waiting) if batch else 0), result.rows)
        if batch is not None:
            batch.run()
            result.results = [batch.answers.pop(id(r), r) for r in result.results]
            if progress is not None:
                progress(result.rows, result.rows)
        has_errors = bool(result.errors)
        result.written = not dry_run and (valid_rows_only or not has_errors)
        if not result.written:
            transaction.set_rollback(True)
    # When nothing was written the counts say what would have been (a dry run's answer).
    return result


COLLECT_EVERY = 500  # rows


@contextmanager
def _collecting_new_objects_only() -> Iterator[Callable[[], None]]:
    """The file's rows, and the answer to each, stay alive until the import ends, and Python's
    cyclic garbage collector, left to run on its own, walks all of them again and again as
    they grow: a fifth of a 100,000-row import's CPU. Instead automatic collection is paused
    and `collect()` — every COLLECT_EVERY rows — collects the two young generations, what was
    made since the last time: garbage cycles are still freed as the import goes, the
    survivors move to the old generation, which is not walked again before the import ends.
    The collector is back on when the import ends, even by an exception. It is the process's
    collector: another thread of the process (a threaded development server) has its cycles
    freed by these collections too, or when the import ends."""
    if not gc.isenabled():  # someone else manages the collector: leave it to them
        yield lambda: None
        return
    gc.disable()
    try:
        yield lambda: gc.collect(1)
    finally:
        gc.enable()


@dataclass
class _Waiting:
    """A row parsed and new in the file, waiting for its batch."""

    row: Row
    parsed: Parsed


class _Batch:
    """Rows applied together by a handler's `apply_many` (one service call for many rows —
    lending.services.repayments_many): the answers come back in row order, each an Outcome or
    the CellError / LendingError refusing that row alone."""

    # Rows per apply_many (the handler may split them: repayments work in chunks of 500); the
    # progress shown moves a batch at a time.
    SIZE = 5000

    def __init__(self, kind, table, handler):
        self.kind, self.table, self.handler = kind, table, handler
        self.waiting: list[_Waiting] = []
        self.answers: dict[int, RowResult] = {}

    def add(self, waiting: _Waiting) -> bool:
        self.waiting.append(waiting)
        return len(self.waiting) >= self.SIZE

    def run(self) -> None:
        if not self.waiting:
            return
        outcomes = self.handler.apply_many([w.parsed for w in self.waiting])
        for waiting, outcome in zip(self.waiting, outcomes, strict=True):
            self.answers[id(waiting)] = _answer(self.kind, self.table, waiting.row, outcome)
        self.waiting = []


def _one_row(kind, table, handler, seen, number, cells) -> RowResult:
    answer = _parsed_row(kind, table, handler, seen, number, cells)
    if isinstance(answer, RowResult):
        return answer
    try:
        if getattr(handler, "atomic_apply", False):
            # The handler writes only through one service call that is atomic by itself (and
            # raises before or instead of writing otherwise): the service's own savepoint
            # undoes an error row, a second one around it would only cost two statements.
            outcome = handler.apply(answer.parsed)
        else:
            with transaction.atomic():
                outcome = handler.apply(answer.parsed)
    except (CellError, LendingError) as exc:
        outcome = exc
    return _answer(kind, table, answer.row, outcome)


def _parsed_row(kind, table, handler, seen, number, cells) -> RowResult | _Waiting:
    """The row's fate when parsing or the file's earlier rows decide it, else the row to
    apply."""
    row = Row(number, cells, table)
    try:
        parsed = handler.parse(row)
    except CellError as exc:
        return _cell_error(table, number, exc)
    earlier = seen.get(parsed.key) if parsed.key else None
    if earlier is not None:
        difference = _difference(kind, table, earlier[1], earlier[0], parsed)
        if difference:
            return RowResult(number, Fate.ERROR, message=difference, code="duplicate")
        return RowResult(
            number,
            Fate.DUPLICATE,
            message=_("the same as row %(row)s") % {"row": earlier[0]},
        )
    if parsed.key:
        seen[parsed.key] = (number, parsed)
    return _Waiting(row, parsed)


def _answer(kind, table, row: Row, outcome) -> RowResult:
    if isinstance(outcome, CellError):
        return _cell_error(table, row.number, outcome)
    if isinstance(outcome, LendingError):
        key = kind.fields.get(outcome.field or "", outcome.field or "")
        column = table.header_of(key) if key in table.columns else ""
        value = shown(row.raw(key)) if key in table.columns else ""
        return RowResult(row.number, Fate.ERROR, column, value, outcome.message, str(outcome.code))
    return RowResult(row.number, outcome.fate, message=outcome.note)


def _cell_error(table: Table, number: int, exc: CellError) -> RowResult:
    column = table.header_of(exc.column) if exc.column in table.columns else exc.column
    return RowResult(number, Fate.ERROR, column, shown(exc.value), exc.message, "invalid")
