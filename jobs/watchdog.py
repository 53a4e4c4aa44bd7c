"""Recovering runs whose worker died: the session's heartbeat stopped, its prompt is still
in the running slot. The prompt is failed with a clear message and the queue moves on."""

from __future__ import annotations

import logging

from bot import keys
from bot.progress import EventKind, ProgressStream
from bot.prompts import PromptState
from bot.redisio import as_str
from jobs.runner import settle
from jobs.runtime import JobContext

log = logging.getLogger(__name__)

LOST_RUN = (
    "The worker running this stopped unexpectedly (it was restarted, killed or ran out of "
    "memory). What it had written is still in the workdir; send the prompt again to retry."
)

# Claim a dead run atomically: only if nobody holds the lock. KEYS: lock, running, active set.
# ARGV: session id. Returns the prompt id taken out of the running slot, or false.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local prompt = redis.call('LPOP', KEYS[2])
if not prompt then redis.call('SREM', KEYS[3], ARGV[1]) return false end
redis.call('SREM', KEYS[3], ARGV[1])
return prompt
"""


def recover_stale_runs(ctx: JobContext) -> list[str]:
    """Fail every run whose heartbeat has expired; returns the prompt ids recovered."""
    claim = ctx.redis.register_script(_CLAIM)
    recovered: list[str] = []
    for raw in ctx.redis.smembers(keys.active_runs()):
        session_id = as_str(raw)
        taken = claim(
            keys=[keys.run_lock(session_id), keys.running(session_id), keys.active_runs()],
            args=[session_id],
        )
        if not taken:
            continue
        prompt = ctx.service.prompts.get(as_str(taken))
        prompt.state, prompt.error = PromptState.FAILED, LOST_RUN
        ctx.service.prompts.update(prompt)
        ProgressStream(ctx.redis, session_id).emit(EventKind.ERROR, LOST_RUN, prompt.id, lost=True)
        settle(ctx, session_id, prompt.id)
        ctx.service.kick(ctx.service.sessions.get(session_id), f"recover-{prompt.id}")
        log.warning("recovered run %s of session %s after its worker died", prompt.id, session_id)
        recovered.append(prompt.id)
    return recovered
