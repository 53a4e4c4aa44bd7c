"""Acting as the person: the session starter's linked account on the session's host.

When whoever started a session has linked their GitHub or GitLab account, their rights are
checked before the session is set up, and shipping pushes and opens the MR/PR with their
token (so they are its author); progress comments stay the bot's. The bot's own rights
are checked too. `REPOBOX_REQUIRE_LINKED=1` makes a linked account mandatory for sessions
started from Slack or the web on a GitLab/GitHub repository.

The starter is found from the session alone: web sessions name the account (`web:<id>`);
Slack ones name the Slack user, and the team is the first part of the thread's key.
"""

from __future__ import annotations

from redis import Redis

from bot.core.config import Settings
from bot.identity import accounts
from bot.identity import rights as forge_rights
from bot.identity.accounts import AccountStore
from bot.identity.people import Credential, Identity, Provider
from bot.security.credentials import CredentialError
from bot.sessions.session import Session

WEB_PREFIX = "web:"
HOSTED = {"github": Provider.GITHUB, "gitlab": Provider.GITLAB}
CHAT = ("slack", "web", "api")  # surfaces that cannot ask the forge who the person is


async def account_id(
    store: AccountStore, surface: str, thread_key: str, person_id: str
) -> str | None:
    """The Repobox account of whoever a surface names as a session's starter, if any."""
    if person_id.startswith(WEB_PREFIX):
        return person_id.removeprefix(WEB_PREFIX)
    if surface == "slack":
        found = await store.find(Identity.slack(thread_key.split(":", 1)[0], person_id))
        return found.id if found else None
    return None


async def _starter_credential(store: AccountStore, session: Session) -> Credential | None:
    provider = HOSTED.get(session.provider)
    if provider is None:
        return None
    thread = session.thread
    found = await account_id(store, thread.surface, thread.key, session.created_by.id)
    if found is None:
        return None
    try:
        return await store.credential(found, provider)
    except CredentialError:
        return None  # a key that no longer opens it: acts as unlinked; settings say so


def starter_credential(settings: Settings, redis: Redis, session: Session) -> Credential | None:
    """The starter's linked token for the session's host (None: none, or not a forge), for
    the jobs, which are off the loop: the account store's coroutines, run to the end."""
    if HOSTED.get(session.provider) is None:
        return None  # no round trip for a repository that is not on a forge
    return accounts.blocking(settings, redis, lambda store: _starter_credential(store, session))


def as_person(settings: Settings, credential: Credential | None) -> Settings:
    """Settings whose forge token is the person's, for pushing and opening the MR/PR."""
    if credential is None:
        return settings
    if credential.provider is Provider.GITHUB:
        return settings.with_changes(github_token=credential.token)
    return settings.with_changes(gitlab_token=credential.token)


def _bot_token(settings: Settings, provider: Provider) -> str | None:
    return settings.github_token if provider is Provider.GITHUB else settings.gitlab_token


def refusal(settings: Settings, redis: Redis, session: Session) -> str | None:
    """Why the session may not be set up (the starter's or the bot's missing right, or a
    required linked account missing), in words for the person; None when it may."""
    provider = HOSTED.get(session.provider)
    if provider is None:
        return None
    if session.thread.surface not in CHAT:
        return None  # a forge surface checks the commenter's rights with the bot's token
    credential = starter_credential(settings, redis, session)
    if credential is None and settings.require_linked:
        return (
            f"Link your {provider.value} account first (`/repobox connect` in Slack, or "
            "Settings on the dashboard): this Repobox works on repositories as the person."
        )
    if credential is not None:
        mine = forge_rights.rights(
            settings, provider, credential.token, session.project, credential.login
        )
        if not mine.can_write:
            return f"You cannot change this repository: {mine.detail}."
    bot_token = _bot_token(settings, provider)
    if bot_token:
        bots = forge_rights.rights(settings, provider, bot_token, session.project, "Repobox")
        if not bots.can_write:
            return f"Repobox itself cannot work here: {bots.detail}."
    return None
