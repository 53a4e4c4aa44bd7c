"""Fair queues: a burst of comment jobs on the fast queue does not hold back session set-up
and runs. With RQ's default order one worker would serve the whole burst first."""

from __future__ import annotations

from collections.abc import Callable

from rq import Queue
from rq.serializers import JSONSerializer

from bot.core.dispatch import FAST_QUEUE
from bot.sessions.prompts import PromptState
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, WorkerProcess
from tests.faults.burst import comment_job
from tests.faults.support import new_session, wait_prompt

BURST = 60
EACH = 0.25  # seconds per comment job: the burst alone holds one worker for 15 s


def test_a_burst_of_comment_jobs_does_not_hold_back_set_up_and_runs(
    ctx: JobContext, make_repo: MakeRepo, start_worker: Callable[..., WorkerProcess]
) -> None:
    origin = make_repo()
    fast = Queue(FAST_QUEUE, connection=ctx.redis, serializer=JSONSerializer)
    for n in range(BURST):
        ctx.service.dispatch.enqueue(
            comment_job, job_id=f"comment-{n}", queue=FAST_QUEUE, seconds=EACH
        )
    session = new_session(ctx, origin, "write a.txt: 1")  # set-up, then a run, behind the burst
    start_worker()  # one worker, so it has to choose

    wait_prompt(ctx, session, 1, PromptState.DONE, timeout=BURST * EACH)
    # Set-up, the run and the pool refill each waited for at most about one comment job.
    assert fast.count >= BURST - 8, f"only {fast.count} of {BURST} comment jobs still waiting"
