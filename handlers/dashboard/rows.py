"""The session list's rows and filters, as the dashboard's template reads them.

A row is what one line of the list shows, whatever surface the session started on. The
filters come from the query string, which anyone can type: each is held to its known values
(`Filters.read`), so a bad value shows the default list instead of an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from bot.sessions.session import Session, SessionState

STATES = tuple(s.value for s in SessionState)
SCOPES = ("mine", "everyone")
SURFACES = {  # surface → (icon in icons.svg, the words a screen reader says)
    "slack": ("slack", "Slack"),
    "gitlab": ("gitlab", "GitLab"),
    "github": ("github", "GitHub"),
    "web": ("globe", "Web"),
    "cli": ("terminal", "Terminal"),
}
PAGE_MAX = 10_000


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

    @classmethod
    def of(cls, session: Session) -> SessionRow:
        mr = session.merge_request
        url = str(mr.url) if mr else None
        return cls(
            id=session.id,
            repo=session.project,
            title=session.title,
            state=session.state.value,
            surface=session.thread.surface,
            who=session.created_by.name,
            last_activity=session.updated_at,
            mr_url=url if url and url.startswith(("https://", "http://")) else None,
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
    page: int = 0

    @classmethod
    def read(cls, query: Mapping[str, str], admin: bool) -> Filters:
        state = query.get("state", "")
        scope = query.get("scope", "mine")
        page = query.get("page", "0")
        return cls(
            state=state if state in STATES else "",
            repo=query.get("repo", "")[:500],
            scope=scope if scope in SCOPES and (admin or scope == "mine") else "mine",
            page=min(int(page), PAGE_MAX) if page.isdigit() and len(page) < 6 else 0,
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
            "page": str(chosen.page) if chosen.page else "",
        }
        query = urlencode({k: v for k, v in pairs.items() if v})
        return f"/dashboard/?{query}" if query else "/dashboard/"


@dataclass(frozen=True)
class Listing:
    rows: list[SessionRow]
    repos: list[str]  # for the repository filter
    more: bool  # an older page exists
    total_hint: int  # sessions the filters matched, as far as they were scanned
