"""The session service: what every surface calls once it has parsed a command.

It only checks, records and enqueues (microseconds to milliseconds, no network), so the
web process can answer at once; cloning, running and pushing happen in jobs.

Every operation is a coroutine on `redis.asyncio`: the web process awaits it on its event
loop, which a Redis call never blocks. Code off the loop (RQ jobs, the CLI) runs the very
same operations through `bot.commands.blocking.BlockingService`, on a short-lived async client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.commands import model_choice, repo_spec
from bot.commands.admission import check_prompt_size
from bot.commands.queueing import Queueing
from bot.core import dedupe, keys
from bot.core.dispatch import FAST_QUEUE, RUN_QUEUE, host_queue
from bot.core.errors import Conflict, NotFound
from bot.core.redisio import as_str
from bot.git.branches import require_branch, work_branch
from bot.sessions import retention
from bot.sessions.events import EventKind
from bot.sessions.origin import Origin
from bot.sessions.prompts import Prompt, Submitted
from bot.sessions.session import (
    ACCEPTS_PROMPTS,
    Person,
    Session,
    SessionState,
    Thread,
    field_json,
)
from bot.sessions.thread_context import ThreadContext

DISCARDED_TTL = 600  # seconds a refused start's keys outlive it (see `discard`)


@dataclass(frozen=True)
class Started:
    session: Session
    submitted: Submitted | None  # the first prompt, when `new` carried one


@dataclass(frozen=True)
class Cancelled:
    running: Prompt | None
    dropped: list[Prompt]


@dataclass(frozen=True)
class Status:
    session: Session
    running: Prompt | None
    waiting: list[Prompt]
    history: list[Prompt]
    model: str = ""  # the model or agent its runs use, as people name it


class SessionService(Queueing):
    """Starting, controlling and reading sessions, on top of `Queueing`'s queue side."""

    # -- starting ------------------------------------------------------------------------
    async def start(
        self,
        *,
        repo: str,
        base: str | None,
        prompt: str | None,
        thread: Thread,
        person: Person,
        request_id: str,
        context: ThreadContext | None = None,
        work_branch_name: str | None = None,
        origin: Origin | None = None,
        model: str | None = None,
    ) -> Started:
        """Create a session bound to `thread` and enqueue its set-up (and first prompt).

        A redelivered request (same `request_id`) returns the session it created the first time.
        `origin` is where the first prompt was typed (the surface reacts on it); `model`
        is `new … --model <name>`, checked against REPOBOX_MODELS_ALLOWED before anything is
        created.
        """
        request = f"new:{request_id}"
        if (replayed := await self._created_by(request)) is not None:
            return Started(replayed, None)
        existing = await self.sessions.find_by_thread(thread.surface, thread.key)
        if existing is not None and existing.state is not SessionState.ARCHIVED:
            raise Conflict(
                f"This thread already has session `{existing.id}` on {existing.project}.",
                hint="Send prompts here, or `archive` it first.",
            )
        check_prompt_size((prompt or "").strip())  # before the thread or a session changes
        chosen = model_choice.allowed(self.settings, model) if model else None
        if existing is not None:
            await self.sessions.release_thread(existing)
        await self.admission.check_disk(None)
        spec = self.check_spec(repo, repo_spec.Reach.of_surface(thread.surface))
        for branch in (base, work_branch_name):
            if branch is not None:
                require_branch(branch)
        session_id = Session.new_id()
        session = Session(
            id=session_id,
            repo=repo,
            provider=spec.provider,
            project=spec.project,
            base_branch=base,
            work_branch=work_branch_name or work_branch(session_id, prompt),
            thread=thread,
            created_by=person,
            title=_title(prompt or (context.title if context else "")),
            context=context,
            model=chosen,
        )
        if prompt:
            await self.check_budget(session, person)  # before a session exists, like its size
        if not await dedupe.take(self.redis, request, dedupe.NEW_SESSION_TTL, session_id):
            replayed = await self._created_by(request)  # the same request, a moment earlier
            if replayed is not None:
                return Started(replayed, None)
        if not await self.sessions.create(session):
            raise Conflict("This thread already has a session.")
        await self._emit(
            session_id, EventKind.STATE, SessionState.INITIALIZING.value, by=person.name
        )
        await self.dispatch.enqueue(
            self.jobs.init,
            job_id=f"init-{session_id}",
            queue=RUN_QUEUE,
            timeout=1800,
            session_id=session_id,
        )
        submitted = None
        if prompt:
            submitted = await self.submit(
                session, prompt, person, request_id=f"{request_id}:first", origin=origin
            )
        return Started(session, submitted)

    async def _created_by(self, request: str) -> Session | None:
        recorded = await dedupe.taken_by(self.redis, request)
        if recorded is None:
            return None
        try:
            return await self.sessions.get(recorded)
        except NotFound:
            return None

    def check_spec(self, repo: str, reach: repo_spec.Reach) -> repo_spec.RepoSpec:
        """What `repo` names, if the surface (`reach`) and REPOBOX_ALLOWED_REPOS allow it."""
        return self.admission.check_spec(repo, reach)

    # -- control ---------------------------------------------------------------------
    async def cancel(self, session: Session, person: Person) -> Cancelled:
        """Stop the running prompt (its process tree is killed) and drop what waits."""
        dropped = await self.prompts.drop_waiting(session.id, f"cancelled by {person.name}")
        running = await self.prompts.running(session.id)
        if running is not None:
            async with self.redis.pipeline() as pipe:
                pipe.rpush(keys.cancel(session.id), running.id)
                pipe.expire(keys.cancel(session.id), 300)
                await pipe.execute()
        for prompt in dropped:
            text = f"cancelled by {person.name} before it ran"
            await self._emit(session.id, EventKind.CANCELLED, text, prompt.id)
        return Cancelled(running, dropped)

    async def archive(self, session: Session, person: Person) -> None:
        """Close the session: cancel its work, free the thread, remove the workdir (in a job)."""
        await self.cancel(session, person)
        await self.sessions.transition(session.id, SessionState.ARCHIVED)
        await self.sessions.mark_archived(session.id)
        await self.redis.delete(keys.checkpoint(session.id))  # its workdir is retired
        await retention.expire_archived(self.redis, session.id, self.settings.retention_seconds)
        await self.sessions.release_thread(session)
        await self._emit(session.id, EventKind.STATE, SessionState.ARCHIVED.value, by=person.name)
        current = await self.sessions.get(session.id)
        await self.dispatch.enqueue(
            self.jobs.retire,
            job_id=f"retire-{session.id}",
            queue=host_queue(current.host) if current.host else FAST_QUEUE,
            timeout=600,
            session_id=session.id,
        )

    async def discard(self, session: Session, person: Person) -> None:
        """Take back a start that was refused: a session whose set-up failed (a path that is
        no repository, a host that does not resolve) leaves nothing people see.

        It is archived, freed from its thread and taken out of every listing at once; its
        keys go after `DISCARDED_TTL`, so a job still finishing with it reads it meanwhile
        instead of failing on a session that vanished under it."""
        current = await self.sessions.get(session.id)
        if current.state is not SessionState.FAILED or current.workdir:
            raise Conflict(f"Session `{session.id}` was set up; `archive` it instead.")
        await self.prompts.drop_waiting(session.id, f"the start was refused ({person.name})")
        await self.sessions.transition(session.id, SessionState.ARCHIVED)
        await self.sessions.release_thread(current)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem(keys.sessions_index(), session.id)
            pipe.zrem(keys.archived_index(), session.id)
            await pipe.execute()
        await retention.expire_archived(self.redis, session.id, DISCARDED_TTL)

    async def use_model(self, session: Session, name: str, person: Person) -> None:
        """`use <name>`: the session's next runs use this model or agent (a run already
        going finishes on its own)."""
        chosen = model_choice.allowed(self.settings, name)
        if (await self.sessions.get(session.id)).state not in ACCEPTS_PROMPTS:
            raise Conflict(f"Session `{session.id}` is closed.", hint="Start a new one with `new`.")
        await self.redis.hset(keys.session(session.id), "model", field_json(chosen))
        await self._emit(
            session.id, EventKind.INFO, f"{person.name} chose {chosen} for the next runs."
        )

    async def status(self, session: Session) -> Status:
        current = await self.sessions.get(session.id)
        return Status(
            session=current,
            running=await self.prompts.running(session.id),
            waiting=await self.prompts.waiting(session.id),
            history=await self.prompts.history(session.id),
            model=model_choice.label(self.settings, current),
        )

    async def diff(self, session: Session) -> dict[str, Any]:
        """The diff as of the last checkpoint (stored by the run, so any process can read it)."""
        raw = await self.sessions.diff(session.id)
        return json.loads(raw) if raw else {"stat": None, "patch": ""}

    # -- channels -------------------------------------------------------------------------
    async def link_channel(self, surface: str, channel: str, repo: str) -> str:
        spec = self.check_spec(repo, repo_spec.Reach.of_surface(surface))
        await self.redis.set(keys.channel_link(surface, channel), repo)
        return spec.project

    async def linked_repo(self, surface: str, channel: str) -> str | None:
        raw = await self.redis.get(keys.channel_link(surface, channel))
        return as_str(raw) if raw is not None else None


def _title(text: str) -> str:
    """A session's title: the first line of its first prompt (or of its issue's title)."""
    lines = text.strip().splitlines()
    return lines[0][:120] if lines else ""
