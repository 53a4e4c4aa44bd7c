"""The browser's session: a cookie sealed with AES-256-GCM, and its CSRF token.

The whole session lives in the cookie (person id, CSRF token, expiry, the OAuth request
in flight, a one-line notice), sealed by the credentials vault under its own derived
key ("web-session"), so the web process stays stateless and a cookie can be neither
read nor altered nor given a longer life. A cookie that does not open, or has expired,
is simply a new anonymous session.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from bot.core.config import Settings
from bot.identity.oauth import PendingAuthorization
from bot.identity.oidc import PendingOidc
from bot.security.credentials import CredentialError, Vault, keyring

COOKIE = "repobox_session"
SESSION_TTL = 12 * 3600
OWNER, PURPOSE = "browser", "session"


def _csrf() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class WebSession:
    person_id: str | None = None
    csrf: str = field(default_factory=_csrf, repr=False)
    expires: float = field(default_factory=lambda: time.time() + SESSION_TTL)
    pending: PendingAuthorization | None = None
    notice: str | None = None
    issued: float = field(default_factory=time.time)
    after: str | None = None  # where signing in goes on to (a checked dashboard path)
    oidc: PendingOidc | None = None  # an OpenID Connect sign-in in flight

    def to_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "csrf": self.csrf,
            "expires": self.expires,
            "pending": self.pending.to_dict() if self.pending else None,
            "notice": self.notice,
            "issued": self.issued,
            "after": self.after,
            "oidc": self.oidc.to_dict() if self.oidc else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WebSession:
        pending, oidc = data.get("pending"), data.get("oidc")
        return cls(
            person_id=data.get("person_id"),
            csrf=str(data["csrf"]),
            expires=float(data["expires"]),
            pending=PendingAuthorization.from_dict(pending) if pending else None,
            notice=data.get("notice"),
            issued=float(data.get("issued", 0)),
            after=data.get("after"),
            oidc=PendingOidc.from_dict(oidc) if oidc else None,
        )

    def signed_in(self, person_id: str) -> WebSession:
        """A fresh session for `person_id`: new CSRF token and expiry (no fixation)."""
        return WebSession(person_id=person_id, notice=self.notice)

    def with_after(self, after: str | None) -> WebSession:
        return replace(self, after=after)

    def with_notice(self, notice: str | None) -> WebSession:
        return replace(self, notice=notice)


class SessionCookies:
    """Seals and opens the session cookie."""

    def __init__(self, settings: Settings) -> None:
        self.vault = Vault(keyring(settings), purpose="web-session")
        self.secure = settings.public_url.startswith("https://")

    def load(self, request: web.Request) -> WebSession | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = json.loads(self.vault.open(raw, owner=OWNER, provider=PURPOSE))
            found = WebSession.from_dict(data)
        except (CredentialError, ValueError, KeyError, TypeError):
            return None
        return found if found.expires > time.time() else None

    def store(self, response: web.StreamResponse, session: WebSession | None) -> None:
        if session is None:
            response.del_cookie(COOKIE, path="/")
            return
        sealed = self.vault.seal(json.dumps(session.to_dict()), owner=OWNER, provider=PURPOSE)
        response.set_cookie(
            COOKIE,
            sealed,
            max_age=max(0, int(session.expires - time.time())),
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="Lax",  # the OAuth callback is a top-level GET from the host
        )
