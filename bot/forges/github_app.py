"""The bot as a GitHub App: installation tokens, minted with PyGithub and kept per process.

PyGithub signs the App's JWT (`Auth.AppAuth`) and mints installation tokens
(`GithubIntegration.get_access_token`); what it lacks is a cache shared by every client a
worker builds (each job builds its own provider) and a way to drop a token GitHub refused
before its announced expiry (an installation's permissions changed, or it was suspended).
So `InstallationAuth` is a PyGithub `Auth` whose token comes from that cache: used until
`REFRESH_BEFORE` its expiry, then minted again; `forget` drops it after a 401.

One installation per owner, found from a repository (`GET /repos/{o}/{r}/installation`).
A repository the App cannot see gets a message that says where to install it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from github import Auth, GithubException, GithubIntegration

from bot.core.config import Settings
from bot.core.errors import ConfigError, UpstreamError, UserError
from bot.forges.clients import github_message, github_policy

REFRESH_BEFORE = timedelta(minutes=5)  # GitHub's tokens last an hour; never hand out a stale one
TIMEOUT = 30


@dataclass(frozen=True)
class AppInfo:
    slug: str
    name: str
    html_url: str

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"

    @property
    def install_url(self) -> str:
        return f"{self.html_url.rstrip('/')}/installations/new"


@dataclass(frozen=True)
class _Minted:
    token: str
    expires_at: datetime


class NotInstalled(UserError):
    """The App is not installed where a repository lives (or not given that repository)."""


_lock = threading.Lock()
_tokens: dict[tuple[str, str, int], _Minted] = {}
_owners: dict[tuple[str, str, str], int] = {}
_apps: dict[tuple[str, str], AppInfo] = {}


def enabled(settings: Settings) -> bool:
    return bool(settings.github_app_id and settings.github_app_private_key)


def integration(settings: Settings, timeout: float = TIMEOUT) -> GithubIntegration:
    """PyGithub's App client (JWT-authenticated); no retries of its own, as `clients`."""
    if not (settings.github_app_id and settings.github_app_private_key):
        raise ConfigError("REPOBOX_GITHUB_APP_ID and its private key are not set")
    auth = Auth.AppAuth(settings.github_app_id, settings.github_app_private_key)
    return GithubIntegration(
        base_url=settings.github_api_url,
        auth=auth,
        timeout=int(timeout),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def _key(settings: Settings) -> tuple[str, str]:
    return settings.github_api_url, str(settings.github_app_id)


def _refused(what: str, error: GithubException) -> UpstreamError:
    said = f"{error.status}: {github_message(error)}"
    if error.status == 401:
        said += "; check REPOBOX_GITHUB_APP_ID and its private key"
    return UpstreamError(f"GitHub refused to {what} for Repobox's App ({said}).")


def app_info(settings: Settings) -> AppInfo:
    """The App itself (`GET /app`), once per process."""
    key = _key(settings)
    with _lock:
        found = _apps.get(key)
    if found is not None:
        return found
    client = integration(settings)
    try:
        app = github_policy(settings).call("read the App", client.get_app)
        found = AppInfo(str(app.slug), str(app.name), str(app.html_url))
    except GithubException as error:
        raise _refused("read the App", error) from None
    with _lock:
        _apps[key] = found
    return found


def installation_for(settings: Settings, project: str, *, fresh: bool = False) -> int:
    """The installation that covers `project`'s owner; `NotInstalled` when there is none."""
    owner, _, name = project.partition("/")
    key = (*_key(settings), owner.lower())
    with _lock:
        known = None if fresh else _owners.get(key)
    if known is not None:
        return known
    client = integration(settings)
    try:
        found = github_policy(settings).call(
            "find the App's installation", lambda: client.get_repo_installation(owner, name).id
        )
    except GithubException as error:
        if error.status == 404:
            raise not_installed(settings, project) from None
        raise _refused("find the App's installation", error) from None
    with _lock:
        _owners[key] = int(found)
    return int(found)


def not_installed(settings: Settings, project: str) -> NotInstalled:
    try:
        where = app_info(settings).install_url
    except UpstreamError:
        where = "github.com/settings/installations"
    return NotInstalled(
        f"Repobox's GitHub App is not installed on {project}: install it at {where} "
        "(and give it that repository), then ask again."
    )


def forget_owner(settings: Settings, owner: str) -> None:
    """Drop what is known of an owner's installation (the App was removed there)."""
    with _lock:
        _owners.pop((*_key(settings), owner.lower()), None)


class InstallationAuth(Auth.Auth):
    """An installation token for PyGithub requests, from the per-process cache."""

    def __init__(self, settings: Settings, installation_id: int) -> None:
        self.settings = settings
        self.installation_id = installation_id
        self._key = (*_key(settings), installation_id)

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        now = datetime.now(UTC)
        with _lock:
            minted = _tokens.get(self._key)
        if minted is None or minted.expires_at - REFRESH_BEFORE <= now:
            minted = self._mint()
            with _lock:
                _tokens[self._key] = minted
        return minted.token

    def forget(self) -> None:
        """GitHub refused the token before its expiry: the next request mints another."""
        with _lock:
            _tokens.pop(self._key, None)

    def _mint(self) -> _Minted:
        client = integration(self.settings)
        try:
            made = github_policy(self.settings).call(
                "make an installation token",
                lambda: client.get_access_token(self.installation_id),
            )
        except GithubException as error:
            raise _refused("make an installation token", error) from None
        expires = made.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return _Minted(str(made.token), expires)

    @property
    def _masked_token(self) -> str:
        return "token (installation token removed)"
