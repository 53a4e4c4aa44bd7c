"""The session list's rows and filters, as the dashboard's template reads them.

A row is what one line of the list shows, whatever surface the session started on. The
filters come from the query string, which anyone can type: each is held to its known values
(`Filters.read`), so a bad value shows the default list instead of an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from bot.sessions.listing import CURSOR, Row
from bot.sessions.session import SessionState
from handlers.common.places import Place, places_of

STATES = tuple(s.value for s in SessionState)
SCOPES = ("mine", "everyone")
SURFACES = {  # surface → (icon in icons.svg, the words a screen reader says)
    "slack": ("slack", "Slack"),
    "gitlab": ("gitlab", "GitLab"),
    "github": ("github", "GitHub"),
    "web": ("globe", "Web"),
    "cli": ("terminal", "Terminal"),
}


@dataclass(frozen=True)
class SessionRow:
    id: str
    repo: str
    title: str
    state: str
    surface: str
    who: str
    last_activity: float
    mr_url: str | None = None
    # Everywhere it can be followed: its home thread, then the MR/PR it shipped (one row for
    # a session asked in Slack and on its pull request).
    places: tuple[Place, ...] = ()

    @classmethod
    def of(cls, row: Row) -> SessionRow:
        url = row.merge_request_url
        return cls(
            id=row.id,
            repo=row.repository.name,
            title=row.title,
            state=row.state,
            surface=row.surface,
            who=row.who,
            last_activity=float(row.last_activity),
            mr_url=url if url and url.startswith(("https://", "http://")) else None,
            places=places_of(
                row.surface,
                row.thread_key,
                row.thread_url,
                url,
                row.places,
                page=f"/dashboard/sessions/{row.id}",
            ),
        )

    @property
    def href(self) -> str:
        return f"/dashboard/sessions/{self.id}"

    @property
    def surface_icon(self) -> tuple[str, str]:
        return SURFACES.get(self.surface, ("globe", self.surface.title() or "Unknown"))

    @property
    def mr_label(self) -> str:
        """`#12` for a pull request, `!12` for a merge request, as each host writes them."""
        if not self.mr_url:
            return ""
        tail = self.mr_url.rstrip("/").rsplit("/", 1)[-1]
        if not tail.isdigit():
            return "open"
        return f"#{tail}" if "/pull/" in self.mr_url else f"!{tail}"


@dataclass(frozen=True)
class Filters:
    state: str = ""  # "": every open session; else one state (archived: the archive)
    repo: str = ""
    scope: str = "mine"
    after: str = ""  # the page cursor (`bot.sessions.listing.Cursor`); "": the newest page

    @classmethod
    def read(cls, query: Mapping[str, str]) -> Filters:
        state = query.get("state", "")
        scope = query.get("scope", "mine")
        after = query.get("after", "")
        return cls(
            state=state if state in STATES else "",
            repo=query.get("repo", "")[:500],
            scope=scope if scope in SCOPES else "mine",  # "everyone" for a non-admin: refused
            after=after if CURSOR.match(after) else "",
        )

    @property
    def archived(self) -> bool:
        return self.state == SessionState.ARCHIVED.value

    def url(self, **changes: object) -> str:
        """This list's address with `changes`, leaving defaults out."""
        chosen = replace(self, **changes)  # type: ignore[arg-type]
        pairs = {
            "state": chosen.state,
            "repo": chosen.repo,
            "scope": "" if chosen.scope == "mine" else chosen.scope,
            "after": chosen.after,
        }
        query = urlencode({k: v for k, v in pairs.items() if v})
        return f"/dashboard/?{query}" if query else "/dashboard/"


@dataclass(frozen=True)
class Listing:
    rows: list[SessionRow]
    repos: list[tuple[str, str]]  # the repository filter's (value, name) pairs
    next_cursor: str | None  # `after=` of the older page; None on the last
