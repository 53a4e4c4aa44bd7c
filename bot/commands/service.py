"""The session service: what every surface calls once it has parsed a command.

It only checks, records and enqueues (microseconds to milliseconds, no network), so the
web process can answer at once; cloning, running and pushing happen in jobs.

Every operation is a coroutine on `redis.asyncio`: the web process awaits it on its event
loop, which a Redis call never blocks. Code off the loop (RQ jobs, the CLI) runs the very
same operations through `bot.commands.blocking.BlockingService`, on a short-lived async client.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.client import Pipeline

from bot.commands import repo_spec
from bot.compare.candidates import check_count, resolve
from bot.compare.picking import check_pickable
from bot.core import disk, keys
from bot.core.config import Settings
from bot.core.dispatch import (
    FAST_QUEUE,
    RUN_QUEUE,
    AsyncDispatcher,
    Dispatcher,
    SessionJobs,
    host_queue,
)
from bot.core.errors import Conflict, Forbidden, NotFound, UserError
from bot.core.redisio import as_str
from bot.git.branches import require_branch, work_branch
from bot.sessions import retention
from bot.sessions.async_prompts import AsyncPromptQueue
from bot.sessions.async_session import AsyncSessionStore
from bot.sessions.events import STREAM_MAX_LEN, EventKind, ProgressEvent
from bot.sessions.hosts import Beat
from bot.sessions.origin import Origin
from bot.sessions.prompts import Action, Prompt, Submitted
from bot.sessions.session import ACCEPTS_PROMPTS, Person, Session, SessionState, Thread
from bot.sessions.thread_context import ThreadContext

JOB_SLACK = 120.0  # RQ's own timeout sits above the run's time limit, which we enforce


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


class SessionService:
    def __init__(
        self, settings: Settings, redis: Redis, aredis: AsyncRedis, jobs: SessionJobs
    ) -> None:
        """`aredis` carries every call; `redis` (the same server) only lends RQ a connection
        to build jobs with (`AsyncDispatcher`). `jobs`: the jobs it enqueues
        (`jobs.session_jobs.SESSION_JOBS`; bot/ must not import jobs/, so its builder hands
        them in)."""
        self.settings = settings
        self.redis = aredis
        self.jobs = jobs
        self.sessions = AsyncSessionStore(aredis)
        self.prompts = AsyncPromptQueue(aredis)
        self.dispatch = AsyncDispatcher(Dispatcher(redis), aredis)

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
    ) -> Started:
        """Create a session bound to `thread` and enqueue its set-up (and first prompt).

        A redelivered request (same `request_id`) returns the session it created the first time.
        `origin` is where the first prompt was typed (the surface reacts on it).
        """
        request_key = keys.request(f"new:{request_id}")
        if (replayed := await self._created_by(request_key)) is not None:
            return Started(replayed, None)
        existing = await self.sessions.find_by_thread(thread.surface, thread.key)
        if existing is not None and existing.state is not SessionState.ARCHIVED:
            raise Conflict(
                f"This thread already has session `{existing.id}` on {existing.project}.",
                hint="Send prompts here, or `archive` it first.",
            )
        if existing is not None:
            await self.sessions.release_thread(existing)
        await self.check_disk(None)
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
        )
        if not await self.redis.set(request_key, session_id, nx=True, ex=7 * 86400):
            replayed = await self._created_by(request_key)  # the same request, a moment earlier
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

    async def _created_by(self, request_key: str) -> Session | None:
        recorded = await self.redis.get(request_key)
        if recorded is None:
            return None
        try:
            return await self.sessions.get(as_str(recorded))
        except NotFound:
            return None

    def check_spec(self, repo: str, reach: repo_spec.Reach) -> repo_spec.RepoSpec:
        """What `repo` names, if the surface (`reach`) and REPOBOX_ALLOWED_REPOS allow it."""
        spec = repo_spec.parse(repo, self.settings, reach)
        self.check_repo_allowed(spec.provider, spec.project)
        return spec

    async def check_disk(self, host: str | None) -> None:
        """Refuse work below REPOBOX_MIN_FREE_MB: on the session's host as its heartbeat
        reports it, or on this machine's data dir when no host holds the session yet."""
        minimum = self.settings.min_free_mb
        beat, alive = await self._beat(host) if host else (None, False)
        if beat is not None and alive:
            if beat.free_mb < minimum:
                raise disk.refusal(
                    beat.free_mb, minimum, f"the machine holding this session ({host})"
                )
            return
        disk.check(self.settings.data_dir, minimum)

    def check_repo_allowed(self, provider_name: str, project: str) -> None:
        allowed = self.settings.allowed_repos
        if allowed and project not in allowed and f"{provider_name}:{project}" not in allowed:
            raise Forbidden(f"Repobox is not allowed to work on `{project}` here.")

    # -- prompts and ships ----------------------------------------------------------------
    async def submit(
        self,
        session: Session,
        text: str,
        person: Person,
        *,
        request_id: str,
        origin: Origin | None = None,
    ) -> Submitted:
        """Queue a prompt; it runs after everything queued before it."""
        if not text.strip():
            raise UserError("That prompt is empty.", hint="Tell me what to change.")
        return await self._queue(session, Action.RUN, text.strip(), person, request_id, origin)

    async def ship(
        self,
        session: Session,
        person: Person,
        *,
        request_id: str,
        origin: Origin | None = None,
        anyway: bool = False,
    ) -> Submitted:
        """Queue a push (and MR/PR) after whatever is running or waiting; `anyway` ships
        past failing required checks and records who did."""
        text = "ship it anyway" if anyway else "ship it"
        return await self._queue(session, Action.SHIP, text, person, request_id, origin)

    async def undo(
        self,
        session: Session,
        person: Person,
        *,
        request_id: str,
        origin: Origin | None = None,
    ) -> Submitted:
        """Queue taking back the last checkpoint: after the run it would take back."""
        return await self._queue(session, Action.UNDO, "undo", person, request_id, origin)

    async def compare(
        self,
        session: Session,
        text: str,
        candidates: tuple[str, ...],
        person: Person,
        *,
        request_id: str,
        origin: Origin | None = None,
    ) -> Submitted:
        """Queue one prompt for several candidates (none named: REPOBOX_COMPARE_DEFAULT);
        it takes one place in the queue, like any prompt."""
        names = candidates or self.settings.compare_default
        for name in names:
            resolve(name)
        check_count(names, self.settings.compare_max)
        if not text.strip():
            raise UserError("That prompt is empty.", hint="Tell me what to change.")
        return await self._queue(
            session, Action.COMPARE, text.strip(), person, request_id, origin, candidates=names
        )

    async def pick(
        self,
        session: Session,
        number: int,
        person: Person,
        *,
        request_id: str,
        origin: Origin | None = None,
    ) -> Submitted:
        """Queue adopting candidate `number` of the latest comparison (after it, if it has
        not finished yet)."""
        check_pickable(await self.prompts.history(session.id), number)
        return await self._queue(
            session, Action.PICK, f"pick {number}", person, request_id, origin, pick=number
        )

    async def _queue(
        self,
        session: Session,
        action: Action,
        text: str,
        person: Person,
        request_id: str,
        origin: Origin | None,
        *,
        candidates: tuple[str, ...] = (),
        pick: int | None = None,
    ) -> Submitted:
        current = await self.sessions.get(session.id)
        if current.state not in ACCEPTS_PROMPTS:
            raise Conflict(
                f"Session `{current.id}` is {current.state.value} and takes no more prompts.",
                hint="Start a new one with `new <repo>`.",
            )
        if action in (Action.RUN, Action.COMPARE):  # a ship needs no room; let it through
            await self.check_disk(current.host)
        submitted = await self.prompts.submit(
            current.id, action, text, person, request_id, origin, candidates=candidates, pick=pick
        )
        if submitted.created:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zadd(keys.sessions_index(), {current.id: time.time()}, xx=True)  # touch
                if submitted.position > 1:
                    ahead = f"waiting: {submitted.position - 1} ahead"
                    where = {"position": submitted.position}
                    _event(pipe, current.id, EventKind.QUEUED, ahead, submitted.prompt.id, where)
                await pipe.execute()
            if submitted.position > 0:  # still waiting (a running drain may have taken it)
                await self._drain(current, submitted.prompt.id)
        return submitted

    async def kick(self, session: Session, reason: str | None = None) -> None:
        """Make sure a job will drain the session's queue (it exits at once if one is running).

        `reason` makes the job id unique per cause (a prompt, init done, a recovery), so a
        kick is never swallowed as a duplicate of an older, finished drain job.
        """
        current = await self.sessions.get(session.id)
        newest = await self.prompts.last_waiting(session.id)
        if newest is not None:
            await self._drain(current, reason or newest)

    async def _drain(self, current: Session, reason: str) -> None:
        await self.dispatch.enqueue(
            self.jobs.drain,
            job_id=f"drain-{reason}",
            queue=host_queue(current.host) if current.host else RUN_QUEUE,
            timeout=self.settings.run_timeout + JOB_SLACK,
            session_id=current.id,
        )

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
        await self._expire(session.id)
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

    async def status(self, session: Session) -> Status:
        return Status(
            session=await self.sessions.get(session.id),
            running=await self.prompts.running(session.id),
            waiting=await self.prompts.waiting(session.id),
            history=await self.prompts.history(session.id),
        )

    async def diff(self, session: Session) -> dict[str, Any]:
        """The diff as of the last checkpoint (stored by the run, so any process can read it)."""
        raw = await self.redis.get(keys.diff(session.id))
        return json.loads(raw) if raw else {"stat": None, "patch": ""}

    # -- what the operations share ----------------------------------------------------
    async def _emit(
        self, session_id: str, kind: EventKind, text: str, prompt_id: str | None = None, **data: Any
    ) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            _event(pipe, session_id, kind, text, prompt_id, data)
            await pipe.execute()

    async def _beat(self, host: str) -> tuple[Beat | None, bool]:
        """The host's newest heartbeat and whether it is alive (as `HostRegistry` reads them)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(keys.hosts(), host)
            pipe.exists(keys.host(host))
            raw, alive = await pipe.execute()
        return (Beat.from_json(as_str(raw)) if raw is not None else None), bool(alive)

    async def _expire(self, session_id: str) -> None:
        """Let Redis drop the archived session's data after the retention time."""
        prompt_ids = await self.redis.lrange(keys.prompts(session_id), 0, -1)
        ttl = max(1, int(self.settings.retention_seconds))
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in retention.owned_keys(session_id, prompt_ids):
                pipe.expire(key, ttl)
            await pipe.execute()

    # -- channels -------------------------------------------------------------------------
    async def link_channel(self, surface: str, channel: str, repo: str) -> str:
        spec = self.check_spec(repo, repo_spec.Reach.of_surface(surface))
        await self.redis.set(keys.channel_link(surface, channel), repo)
        return spec.project

    async def linked_repo(self, surface: str, channel: str) -> str | None:
        raw = await self.redis.get(keys.channel_link(surface, channel))
        return as_str(raw) if raw is not None else None


def _event(
    pipe: Pipeline,
    session_id: str,
    kind: EventKind,
    text: str,
    prompt_id: str | None,
    data: dict[str, Any],
) -> None:
    """Append to the session's progress stream, in `pipe` (as `ProgressStream.append` does)."""
    event = ProgressEvent(kind, text, prompt_id, data)
    pipe.xadd(
        keys.events(session_id),
        event.to_fields(),  # type: ignore[arg-type]
        maxlen=STREAM_MAX_LEN,
        approximate=True,
    )


def _title(text: str) -> str:
    """A session's title: the first line of its first prompt (or of its issue's title)."""
    lines = text.strip().splitlines()
    return lines[0][:120] if lines else ""
