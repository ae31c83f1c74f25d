"""The kinds of import, registered by the apps that own the rows.

Lending registers `borrowers`, `loans` and `repayments`, risk `bureau`, collections
`agency_results`, each in its AppConfig.ready (like the close of business's steps), so this app
never imports them and the apps keep their direction (DESIGN §3.2).

A kind names its columns (the English key and the Chinese name a file may use instead), the
permission a user needs to start it (a door check only: every row still goes through the
services, which check their own), and a handler factory: `handler(acting_user)` returns an
object with

* ``parse(row) -> Parsed``: the row's values (imports.engine.Row reads and parses cells, and
  raises the cell's error naming the column), its key and what identifies it beyond the key;
* ``apply(parsed) -> Outcome``: the row through the services: a fate (new, update, skip,
  duplicate) or a LendingError.

`fields` maps a service's error field ("value_date", "idempotency_key") to the column it came
from, so an error names the column as the file does.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imports.reading import ColumnSpec


@dataclass(frozen=True)
class Column:
    key: str  # the English header
    zh: str  # the Chinese header
    required: bool = False
    help: Any = ""  # what the cell holds, in words (a lazy translation)
    example: str = ""
    aliases: tuple[str, ...] = ()

    def spec(self) -> ColumnSpec:
        return ColumnSpec(self.key, (self.zh, *self.aliases), self.required)


@dataclass(frozen=True)
class Kind:
    name: str
    label: Any
    description: Any
    columns: tuple[Column, ...]
    permission: str
    handler: Callable[..., Any]
    fields: dict[str, str] = field(default_factory=dict)

    def specs(self) -> list[ColumnSpec]:
        return [c.spec() for c in self.columns]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


_kinds: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    existing = _kinds.get(kind.name)
    if existing and existing.handler is not kind.handler:
        raise ValueError(f"an import kind named {kind.name!r} is already registered")
    _kinds[kind.name] = kind


def get_kind(name: str) -> Kind | None:
    return _kinds.get(name)


def kind_label(name: str) -> str:
    """A kind as people call it, in the reader's language ("borrowers" → 借款人); the name of a
    kind no app registers any more."""
    kind = _kinds.get(name)
    return str(kind.label) if kind else name


def registered_kinds() -> list[Kind]:
    return list(_kinds.values())
