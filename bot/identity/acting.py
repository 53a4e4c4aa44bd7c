"""One acting rule, on every surface: whoever asked for a write (a prompt's commits, ship,
undo) is who Repobox pushes and opens the MR/PR as, when they linked that host for acting,
the link works and they can push. Otherwise Repobox acts as the bot, names the asker in the
MR/PR body with a `Co-authored-by` line, and says why ("acting as the bot because your
GitHub link is broken"). `REPOBOX_ACT_AS=bot` makes the bot the rule; `REPOBOX_REQUIRE_LINKED`
refuses sessions whose starter has no working link, on the forges too.

The asker is found from what the session knows: web people name their account
(`web:<id>`); Slack ones the Slack user, the team being the first part of the thread's key;
forge commenters their login, matched to the account that linked that login. A link that
fails when used (no longer decrypts, 401, no write scope) is marked broken
(`bot.identity.broken`) so the person, their settings page and the health page say so.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from redis import Redis

from bot.core.config import Settings
from bot.core.errors import UpstreamError
from bot.identity import accounts, broken
from bot.identity import rights as forge_rights
from bot.identity.accounts import AccountStore
from bot.identity.people import Credential, Identity, Provider
from bot.security.credentials import CredentialError
from bot.sessions.session import Person, Session

WEB_PREFIX = "web:"
HOSTED = {"github": Provider.GITHUB, "gitlab": Provider.GITLAB}
CHAT = ("slack", "web", "api")  # surfaces that cannot ask the forge who the person is
TITLES = broken.TITLES
# A classic scope that lets a token push and open MRs/PRs; tokens that do not say (GitHub's
# fine-grained ones) are judged by the rights look-up alone.
WRITE_SCOPES = {Provider.GITHUB: {"repo", "public_repo"}, Provider.GITLAB: {"api"}}
SETTINGS_PATH = "/account/settings"


@dataclass(frozen=True)
class Acting:
    """Who the next write for `asker` uses: their credential, or the bot (None) and why."""

    asker: Person
    provider: Provider | None
    credential: Credential | None = field(default=None, repr=False)
    why: str = ""  # to the asker: "your GitHub link is broken (…)"
    note: str = ""  # to others (the MR/PR body): "Alice's GitHub link is broken (…)"
    broken: bool = False
    linked: bool = False  # a working link (whatever the rights): REPOBOX_REQUIRE_LINKED
    rights: forge_rights.Rights | None = None  # the asker's, when asked

    @property
    def as_person(self) -> bool:
        return self.credential is not None

    def settings(self, settings: Settings) -> Settings:
        return as_person(settings, self.credential)

    def sentence(self) -> str:
        """One line for the reply to the asker ("" for a repository on no forge)."""
        if self.provider is None or not (self.linked or self.broken):
            return ""  # nobody linked: the MR/PR body names them, the reply stays short
        title = TITLES[self.provider]
        if self.credential is not None:
            return f"Acting as you ({self.credential.login} on {title})."
        return f"Acting as the bot because {self.why}."

    def description(self) -> str:
        """What the MR/PR body says when the bot acted for someone ("" when they did)."""
        if self.provider is None or self.credential is not None:
            return ""
        return (
            f"Repobox acted as the bot for **{self.asker.name}**: {self.note}.\n\n"
            f"Co-authored-by: {self.asker.co_author}"
        )


async def account_id(
    store: AccountStore, surface: str, thread_key: str, person_id: str
) -> str | None:
    """The Repobox account of whoever a surface names as the asker, if any."""
    if person_id.startswith(WEB_PREFIX):
        return person_id.removeprefix(WEB_PREFIX)
    if surface == "slack":
        found = await store.find(Identity.slack(thread_key.split(":", 1)[0], person_id))
        return found.id if found else None
    if surface in HOSTED:
        found = await store.find(Identity.forge(HOSTED[surface], person_id))
        return found.id if found else None
    return None


async def decide_on(
    store: AccountStore, session: Session, asker: Person, surface: str | None = None
) -> Acting:
    """The acting rule for `asker` on the session's host; marks a link that fails broken.
    `surface` is where the asker was seen (the session's own surface by default)."""
    provider = HOSTED.get(session.provider)
    if provider is None:
        return Acting(asker, None)
    title, name = TITLES[provider], asker.name

    def bot(why: str, note: str, **more: object) -> Acting:
        return Acting(asker, provider, None, why, note, **more)  # type: ignore[arg-type]

    thread = session.thread
    found = await account_id(store, surface or thread.surface, thread.key, asker.id)
    connection = None if found is None else await store.connection(found, provider)
    if found is None or connection is None:
        return bot(
            f"you have not linked your {title} account for acting",
            f"{name} has not linked a {title} account",
        )
    if store.settings.act_as == "bot":
        chosen = "this Repobox always acts as the bot (REPOBOX_ACT_AS=bot)"
        return bot(chosen, chosen, linked=True)
    try:
        credential = await store.credential(found, provider)
    except CredentialError:
        credential = None
    failure = _scope_failure(provider, credential) if credential else "it no longer decrypts"
    rights = None
    if credential is not None and failure is None:
        rights = await _rights(store.settings, provider, credential, session.project)
        if rights is not None and rights.refused:
            failure = f"{title} no longer accepts the token (revoked or expired)"
    if failure is not None or credential is None:
        why = failure or "it no longer decrypts"
        await broken.mark(store.redis, found, provider, why)
        fix = f"link it again in Settings: {store.settings.public_url}{SETTINGS_PATH}"
        return bot(
            f"your {title} link is broken ({why}); {fix}",
            f"{name}'s {title} link is broken ({why})",
            broken=True,
        )
    await broken.clear(store.redis, found, provider)
    if rights is None:
        return bot(
            f"{title} did not answer whether you can push",
            f"{title} did not answer whether {name} can push",
            linked=True,
        )
    if not rights.can_write:
        return bot(rights.detail, rights.detail, linked=True, rights=rights)
    return Acting(
        asker, provider, credential, rights.detail, rights.detail, linked=True, rights=rights
    )


def _scope_failure(provider: Provider, credential: Credential) -> str | None:
    """Why a token's recorded scopes cannot write, if they say (None: fine or unknown)."""
    if not credential.scopes or set(credential.scopes) & WRITE_SCOPES[provider]:
        return None
    wanted = " or ".join(f"`{s}`" for s in sorted(WRITE_SCOPES[provider]))
    return f"it lacks the {wanted} scope"


async def _rights(
    settings: Settings, provider: Provider, credential: Credential, project: str
) -> forge_rights.Rights | None:
    """The person's rights, asked with their token off the loop (None: the host failed)."""
    try:
        return await asyncio.to_thread(
            forge_rights.rights, settings, provider, credential.token, project, credential.login
        )
    except UpstreamError:
        return None


def decide(settings: Settings, redis: Redis, session: Session, asker: Person) -> Acting:
    """`decide_on`, for the jobs, which are off the loop."""
    if HOSTED.get(session.provider) is None:
        return Acting(asker, None)  # no round trip for a repository that is not on a forge
    return accounts.blocking(settings, redis, lambda store: decide_on(store, session, asker))


def as_person(settings: Settings, credential: Credential | None) -> Settings:
    """Settings whose forge token is the person's, for pushing and opening the MR/PR."""
    if credential is None:
        return settings
    if credential.provider is Provider.GITHUB:
        # the person's own token, so not the App (which would otherwise win)
        return settings.with_changes(
            github_token=credential.token, github_app_id=None, github_app_private_key=None
        )
    return settings.with_changes(gitlab_token=credential.token)


def _bot_token(settings: Settings, provider: Provider) -> str | None:
    """The bot's own token; None for a GitHub App, whose rights the installation holds (a
    repository outside it is answered when the session is set up)."""
    if provider is Provider.GITHUB:
        return None if settings.github_app_id else settings.github_token
    return settings.gitlab_token


def refusal(settings: Settings, redis: Redis, session: Session) -> str | None:
    """Why the session may not be set up (the starter's or the bot's missing right, or a
    required linked account missing), in words for the person; None when it may."""
    provider = HOSTED.get(session.provider)
    if provider is None:
        return None
    chat = session.thread.surface in CHAT
    if chat or settings.require_linked:
        acting = decide(settings, redis, session, session.created_by)
        if not acting.linked and settings.require_linked:
            return _link_first(settings, provider, acting, chat)
        if chat and acting.rights is not None and not acting.rights.can_write:
            return f"You cannot change this repository: {acting.rights.detail}."
    if not chat:
        return None  # a forge surface checks the commenter's rights with the bot's token
    bot_token = _bot_token(settings, provider)
    if bot_token:
        bots = forge_rights.rights(settings, provider, bot_token, session.project, "Repobox")
        if not bots.can_write:
            return f"Repobox itself cannot work here: {bots.detail}."
    return None


def _link_first(settings: Settings, provider: Provider, acting: Acting, chat: bool) -> str:
    title = TITLES[provider]
    if acting.broken:
        return f"This Repobox works on repositories as the person, and {acting.why}."
    if chat:
        return (
            f"Link your {provider.value} account first (`/repobox connect` in Slack, or "
            "Settings on the dashboard): this Repobox works on repositories as the person."
        )
    return (
        f"This Repobox works on repositories as the person who asks: link your {title} "
        f"account for acting first, in Settings: {settings.public_url}{SETTINGS_PATH} "
        "(sign in there, then link it), and ask again."
    )
