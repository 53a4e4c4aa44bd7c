"""One page of the session list for a viewer and their filters.

Until the per-person index lands (the listing branch's `bot/sessions/listing.py`), this reads
the newest `SCAN` sessions of the all-sessions index and filters them here: enough for one
machine's recent work, and the rows and filters are the shape the index will return.
"""

from __future__ import annotations

from bot.sessions.async_session import AsyncSessionStore
from bot.sessions.session import Session
from handlers.dashboard.rows import Filters, Listing, SessionRow
from handlers.dashboard.viewer import Viewer

SCAN = 500
PAGE_SIZE = 25


async def list_rows(store: AsyncSessionStore, viewer: Viewer, filters: Filters) -> Listing:
    found = await store.page(archived=filters.archived, start=0, count=SCAN)
    everyone = filters.scope == "everyone" and viewer.admin
    visible = [s for s in found if everyone or s.created_by.id == viewer.person.id]
    matched = [s for s in visible if _matches(s, filters)]
    start = filters.page * PAGE_SIZE
    return Listing(
        rows=[SessionRow.of(s) for s in matched[start : start + PAGE_SIZE]],
        repos=sorted({s.project for s in visible}),
        more=len(matched) > start + PAGE_SIZE,
        total_hint=len(matched),
    )


def _matches(session: Session, filters: Filters) -> bool:
    if filters.state and not filters.archived and session.state.value != filters.state:
        return False
    return not filters.repo or session.project == filters.repo
