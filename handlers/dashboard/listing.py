"""One page of the session list for a viewer and their filters, from the per-person index.

`bot/sessions/listing.py` reads the index (every surface, matched through the viewer's linked
identities); this turns its page into the rows and menus the dashboard's template shows.
"""

from __future__ import annotations

from bot.identity import linked
from bot.identity.accounts import AccountStore
from bot.sessions import listing
from bot.sessions.session import SessionState
from handlers.dashboard.rows import Filters, Listing, SessionRow
from handlers.dashboard.viewer import Viewer


def _wanted(filters: Filters) -> listing.Filters:
    """The dashboard's filters, already held to their known values (`Filters.read`)."""
    return listing.Filters(
        state=SessionState(filters.state) if filters.state else None,
        repository=filters.repo or None,
        scope=listing.Scope(filters.scope),
        cursor=listing.Cursor.parse(filters.after) if filters.after else None,
    )


async def list_rows(accounts: AccountStore, viewer: Viewer, filters: Filters) -> Listing:
    found = await linked.list_for(accounts, viewer.account.id, viewer.admin, _wanted(filters))
    return Listing(
        rows=[SessionRow.of(row) for row in found.rows],
        repos=[(repo.key, repo.name) for repo in found.repositories],
        next_cursor=found.next_cursor,
    )
