"""The session service's queue side: every prompt, ship, undo, comparison and pick takes
one place in the session's queue, and a drain job is made sure of.

`SessionService` (bot.commands.service) adds starting, cancelling, archiving and reading a
session on top of it; surfaces call that one.
"""

from __future__ import annotations

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from bot.commands.admission import Admission, check_prompt_size
from bot.commands.model_choice import allowed
from bot.compare.candidates import check_count
from bot.compare.picking import check_pickable
from bot.core import keys
from bot.core.config import Settings
from bot.core.dispatch import (
    RUN_QUEUE,
    AsyncDispatcher,
    Dispatcher,
    SessionJobs,
    host_queue,
    safe_id,
)
from bot.core.errors import Conflict, UserError
from bot.sessions import budgets, caps
from bot.sessions.async_events import AsyncProgressStream
from bot.sessions.async_prompts import AsyncPromptQueue
from bot.sessions.async_session import AsyncSessionStore
from bot.sessions.events import EventKind
from bot.sessions.origin import Origin
from bot.sessions.prompts import Action, Submitted
from bot.sessions.session import ACCEPTS_PROMPTS, Person, Session

DRAIN_JOB_TTL = 86_400  # longer than any queue wait; RQ's own record says if the job waits
JOB_SLACK = 120.0  # RQ's own timeout sits above the run's time limit, which we enforce


class Queueing:
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
        self.admission = Admission(settings, aredis)

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
        check_prompt_size(text.strip())
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
            allowed(self.settings, name)  # REPOBOX_MODELS_ALLOWED holds for candidates too
        check_count(names, self.settings.compare_max)
        if not text.strip():
            raise UserError("That prompt is empty.", hint="Tell me what to change.")
        check_prompt_size(text.strip())
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
            await self.admission.check_disk(current.host)
            await self.check_budget(current, person)
        submitted = await self.prompts.submit(
            current.id, action, text, person, request_id, origin, candidates=candidates, pick=pick
        )
        if submitted.created:
            await self.sessions.touch(current.id)
            if submitted.position > 1:
                ahead = f"waiting: {submitted.position - 1} ahead"
                queued, position = submitted.prompt.id, submitted.position
                await self._emit(current.id, EventKind.QUEUED, ahead, queued, position=position)
            if submitted.position > 0:  # still waiting (a running drain may have taken it)
                await self._drain(current, submitted.prompt.id)
        return submitted

    async def check_budget(self, session: Session, person: Person) -> None:
        """Refuse a new prompt at the door while a spending cap it counts for is reached
        (REPOBOX_BUDGETS, or the dashboard's Budgets page); a run going is never stopped."""
        found = await caps.current(self.redis, self.settings.budgets)
        if found.rules:
            why = await budgets.refusal(
                self.redis, found.rules, session, person, set_by=found.set_by
            )
            if why is not None:
                raise Conflict(
                    why, hint="An admin can raise the cap on the dashboard's Budgets page."
                )

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
        job_id = safe_id(f"drain-{reason}")
        await self.dispatch.enqueue(
            self.jobs.drain,
            job_id=job_id,
            queue=host_queue(current.host) if current.host else RUN_QUEUE,
            timeout=self.settings.run_timeout + JOB_SLACK,
            session_id=current.id,
        )
        # Named for the reconciler: while this job waits behind others in a long queue, the
        # session's prompts are not orphaned, and kicking them again would only add jobs.
        await self.redis.set(keys.drain_job(current.id), job_id, ex=DRAIN_JOB_TTL)

    async def _emit(
        self,
        session_id: str,
        kind: EventKind,
        text: str,
        prompt_id: str | None = None,
        **data: object,
    ) -> None:
        await AsyncProgressStream(self.redis, session_id).emit(kind, text, prompt_id, **data)
