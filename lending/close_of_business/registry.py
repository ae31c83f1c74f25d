"""The ordered steps of a close of business.

Lending registers its own (credit, overdue flagging, penalty) in its AppConfig.ready; risk and
collections register theirs the same way with a later position, so they run after flagging and
lending never imports them (DESIGN §3.2).

A chunked step is called as ``func(business_date=D, loan_ids=[...])`` inside the chunk's
transaction, once per chunk of due-or-overdue loans, and must be idempotent for its date. A
book-level step is called once as ``func(business_date=D)`` after every chunk is done. Both
return a dict of counts (ints or Decimals), which the run adds up and shows.
"""

from collections.abc import Callable
from dataclasses import dataclass

StepResult = dict[str, int | object]


@dataclass(frozen=True)
class Step:
    name: str
    position: int
    func: Callable[..., StepResult]
    chunked: bool = True


_steps: dict[str, Step] = {}


def register_step(name: str, func: Callable[..., StepResult], *, position: int, chunked=True):
    existing = _steps.get(name)
    if existing and existing.func is not func:
        raise ValueError(f"a close-of-business step named {name!r} is already registered")
    if any(s.position == position and s.name != name for s in _steps.values()):
        raise ValueError(f"position {position} is taken; give step {name!r} another")
    _steps[name] = Step(name, position, func, chunked)


def registered_steps() -> list[Step]:
    return sorted(_steps.values(), key=lambda s: s.position)


def chunked_steps() -> list[Step]:
    return [s for s in registered_steps() if s.chunked]


def book_steps() -> list[Step]:
    return [s for s in registered_steps() if not s.chunked]
