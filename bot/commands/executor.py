"""One command executor: what a parsed command does, the same on every surface.

A surface verifies and parses (`bot.commands.grammar.parse`), binds who asked (`Asker`), calls
`Executor.execute` and renders the `Reply` it gets back; it never decides what a command
means. Adding a command touches this module (and `bot.commands.grammar`' grammar) plus one renderer
per surface.

Two commands stay with the surfaces because they bind a session or a repository to the
surface's own place, which only the surface knows: `new` (a Slack thread, a forge issue or
merge request, a terminal) and `link` (a Slack channel). The help of each surface says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.checks.results import failures_prompt
from bot.commands.grammar import Command, CommandKind
from bot.commands.service import Cancelled, SessionService, Status
from bot.core.errors import Conflict, NotFound, UserError
from bot.identity import acting
from bot.identity.accounts import accounts_on
from bot.security.links import session_link
from bot.sessions.origin import Origin
from bot.sessions.prompts import Action, Submitted
from bot.sessions.session import Person, Session, SessionState

SURFACE_COMMANDS = frozenset(
    {CommandKind.NEW, CommandKind.LINK}
)  # bind to the surface's place: see above
ANYWHERE = frozenset({CommandKind.HELP, CommandKind.WHOAMI})
JOINS_QUEUE = frozenset(
    {
        CommandKind.PROMPT,
        CommandKind.FIX_CHECKS,
        CommandKind.COMPARE,
        CommandKind.PICK,
        CommandKind.UNDO,
        CommandKind.SHIP,
        CommandKind.SHIP_ANYWAY,
    }
)  # answered with or without a session


@dataclass(frozen=True)
class Asker:
    """Who asked, once per request: the person, the request id that dedupes a redelivery,
    and where it was typed (the surface reacts and answers there)."""

    person: Person
    request_id: str
    origin: Origin | None = None


@dataclass(frozen=True)
class Queued:
    """A prompt (or a ship) joined the session's queue; its progress follows by itself."""

    submitted: Submitted
    ship: bool = False


@dataclass(frozen=True)
class StatusReply:
    status: Status


@dataclass(frozen=True)
class DiffReply:
    session: Session
    diff: dict[str, Any]  # `SessionService.diff`: {"stat": …, "patch": …}


@dataclass(frozen=True)
class CancelReply:
    cancelled: Cancelled

    @property
    def nothing(self) -> bool:
        return self.cancelled.running is None and not self.cancelled.dropped


@dataclass(frozen=True)
class Archived:
    session: Session


@dataclass(frozen=True)
class HelpReply:
    pass


@dataclass(frozen=True)
class WhoAmI:
    """How Repobox knows the asker: the name and the co-author line their runs' commits
    carry, and (in a session on a forge) who the next write they ask for acts as, and why."""

    person: Person
    acting: str = ""


@dataclass(frozen=True)
class LogLink:
    """The signed, expiring link to the session's live log page."""

    session: Session
    url: str


Reply = Queued | StatusReply | DiffReply | CancelReply | Archived | HelpReply | WhoAmI | LogLink


async def fix_prompt(service: SessionService, session: Session) -> str:
    """`fix the checks`: the latest run's failing required checks, handed to the agent."""
    for item in reversed(await service.prompts.history(session.id)):
        report = item.result.check_report if item.result is not None else None
        if item.action is Action.RUN and report is not None:
            if report.passed:
                raise Conflict("The required checks pass on the latest checkpoint.")
            return failures_prompt(report)
    raise Conflict(
        "No checks have run in this session yet.",
        hint="Checks run after each prompt when the base branch has a `.repobox.yml`.",
    )


def needs_session(command: Command) -> bool:
    return command.kind not in ANYWHERE and command.kind not in SURFACE_COMMANDS


class Executor:
    def __init__(self, service: SessionService) -> None:
        self.service = service

    async def execute(self, command: Command, session: Session | None, asker: Asker) -> Reply:
        """Do what `command` says. Mistakes are `UserError`s written for the asker.

        A coroutine on the service's async client: the web process awaits it on its loop;
        code off the loop runs it through `BlockingService.run`."""
        kind = command.kind
        if kind is CommandKind.HELP:
            return HelpReply()
        if kind is CommandKind.WHOAMI:
            return WhoAmI(asker.person, await self._acting(session, asker))
        if kind in SURFACE_COMMANDS:
            raise ValueError(f"`{kind.value}` is the surface's to handle")
        if kind is CommandKind.REVIEW:  # the forges take it before the executor
            raise UserError(
                "`review` works in a merge request or pull request: mention me there with "
                "`review [focus…]`."
            )
        if kind in (CommandKind.FIX_THIS, CommandKind.FIX_ALL):  # the forges take them first
            raise UserError(
                "`fix this` works as a reply in the thread of a Repobox review finding, and "
                "`fix all` on a reviewed merge request or pull request."
            )
        if session is None:
            raise NotFound("There is no session here.")
        return await self._in_session(command, session, asker)

    async def _acting(self, session: Session | None, asker: Asker) -> str:
        """`whoami`'s line on the acting rule (`bot.identity.acting`); "" outside a session."""
        if session is None or session.provider not in acting.HOSTED:
            return ""
        store = accounts_on(self.service.settings, self.service.redis)
        surface = asker.origin.surface if asker.origin is not None else None
        found = await acting.decide_on(store, session, asker.person, surface)
        if found.credential is not None:
            title = acting.TITLES[acting.HOSTED[session.provider]]
            return f"Your next write here acts as you ({found.credential.login} on {title})."
        return f"Your next write here acts as the bot: {found.why}."

    async def _in_session(self, command: Command, session: Session, asker: Asker) -> Reply:
        service, kind = self.service, command.kind
        if kind in JOINS_QUEUE:
            return await self._queue(command, session, asker)
        if kind is CommandKind.STATUS:
            return StatusReply(await service.status(session))
        if kind is CommandKind.USE:  # answered with the status, which names the model
            await service.use_model(session, command.model or "", asker.person)
            return StatusReply(await service.status(session))
        if kind is CommandKind.LOG:
            return LogLink(session, session_link(service.settings, session.id))
        if kind is CommandKind.DIFF:
            return DiffReply(session, await service.diff(session))
        if kind is CommandKind.CANCEL:
            return CancelReply(await service.cancel(session, asker.person))
        if kind is CommandKind.ARCHIVE:
            if (await service.sessions.get(session.id)).state is SessionState.ARCHIVED:
                raise Conflict(f"Session `{session.id}` is already archived.")
            await service.archive(session, asker.person)
            return Archived(session)
        raise ValueError(f"no executor for `{kind.value}`")

    async def _queue(self, command: Command, session: Session, asker: Asker) -> Queued:
        """The commands that join the session's queue (they run in turn, in a job)."""
        service, kind = self.service, command.kind
        by: dict[str, Any] = {"request_id": asker.request_id, "origin": asker.origin}
        if kind is CommandKind.PROMPT:
            return Queued(await service.submit(session, command.prompt or "", asker.person, **by))
        if kind is CommandKind.FIX_CHECKS:
            fix = await fix_prompt(service, session)
            return Queued(await service.submit(session, fix, asker.person, **by))
        if kind is CommandKind.COMPARE:
            prompt, names = command.prompt or "", command.candidates
            return Queued(await service.compare(session, prompt, names, asker.person, **by))
        if kind is CommandKind.PICK:
            picked = await service.pick(session, command.number or 0, asker.person, **by)
            return Queued(picked, ship=True)
        if kind is CommandKind.UNDO:
            return Queued(await service.undo(session, asker.person, **by), ship=True)
        anyway = kind is CommandKind.SHIP_ANYWAY
        return Queued(await service.ship(session, asker.person, anyway=anyway, **by), ship=True)
