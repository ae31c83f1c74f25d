"""Who gets a case: the queue member with the fewest open cases; ties go to the one assigned
least recently (never assigned first), then the lowest id. Pure Python, no Django.

Cases are handed out one at a time and each hand-out counts at once, so a batch spreads
evenly: 100 cases over three empty collectors end 34/33/33.
"""

import heapq
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    open_cases: int
    last_assigned: Any = None  # any comparable value (a datetime); None: never assigned


def assign(cases: Sequence[Hashable], members: Sequence[Member]) -> dict[Hashable, int]:
    """case -> member id, for every case in order (empty when there are no members)."""
    if not members:
        return {}
    # Recency as a rank: never assigned first, then oldest; each hand-out is newer than all.
    by_recency = sorted(
        members, key=lambda m: (m.last_assigned is not None, m.last_assigned or 0, m.id)
    )
    rank = {m.id: n for n, m in enumerate(by_recency)}
    heap = [(m.open_cases, rank[m.id], m.id) for m in members]
    heapq.heapify(heap)
    tick = len(members)
    chosen = {}
    for case in cases:
        load, _, member = heapq.heappop(heap)
        chosen[case] = member
        heapq.heappush(heap, (load + 1, tick, member))
        tick += 1
    return chosen
