"""A run's transitions, each one atomic step in Redis and fenced by the run's lease.

Taking a prompt, recording its outcome and handing it back each change the prompt, the
running slot, the session's state and the thread's events together in one Lua script, so
no crash or refused write can leave a session "running" with nothing running, or a
prompt taken but not recorded. Each script first checks the lease counter against the
caller's token: a run whose lease was taken over changes nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import IntEnum

from redis import Redis

from bot.core import keys
from bot.core.redisio import as_str
from bot.sessions.events import STREAM_MAX_LEN, EventKind, ProgressEvent
from bot.sessions.prompts import Prompt

# Shared Lua: settle a "running" session (ready, or pushed once shipped) and append the
# events, then a state event if it moved. Uses KEYS[3] (session), KEYS[5] (events).
_SETTLE_AND_TELL = """
local function settle_and_tell(events, prompt_id, now, maxlen)
  for _, fields in ipairs(events) do
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', maxlen, '*', unpack(fields))
  end
  if redis.call('HGET', KEYS[3], 'state') ~= '"running"' then return '' end
  local pushed = redis.call('HGET', KEYS[3], 'pushed_commit')
  local settled = (pushed and pushed ~= 'null') and 'pushed' or 'ready'
  redis.call('HSET', KEYS[3], 'state', '"' .. settled .. '"', 'updated_at', now)
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', maxlen, '*', 'kind', 'state', 'text', settled,
    'prompt', prompt_id, 'data', '{}', 'at', now)
  return settled
end
"""

# KEYS: lease, queue, running, session, events(unused), active, cancel, index.
# ARGV: token, now, session id, prompt key prefix, reason for a closed session.
_TAKE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1, ''} end
local state = redis.call('HGET', KEYS[4], 'state')
if not state or state == '"initializing"' then return {0, ''} end
local id = redis.call('LMOVE', KEYS[2], KEYS[3], 'LEFT', 'RIGHT')
if not id then return {0, ''} end
redis.call('DEL', KEYS[7])
local prompt = ARGV[4] .. id
if state == '"ready"' or state == '"pushed"' or state == '"running"' then
  redis.call('HSET', KEYS[4], 'state', '"running"', 'updated_at', ARGV[2])
  redis.call('HSET', prompt, 'state', '"running"', 'started_at', ARGV[2])
  redis.call('SADD', KEYS[6], ARGV[3])
  redis.call('ZADD', KEYS[8], 'XX', ARGV[2], ARGV[3])
  return {1, id}
end
redis.call('LREM', KEYS[3], 0, id)
redis.call('HSET', prompt, 'state', '"cancelled"', 'error', ARGV[5], 'finished_at', ARGV[2])
return {2, id}
"""

# KEYS: lease, running, session, prompt, events, diff, active, index. ARGV: token, prompt id,
# prompt fields (JSON object of JSON values), events (JSON list of flat field lists), now,
# diff payload ('' for none), session id, stream max length.
_FINISH = (
    _SETTLE_AND_TELL
    + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
for name, value in pairs(cjson.decode(ARGV[3])) do redis.call('HSET', KEYS[4], name, value) end
redis.call('LREM', KEYS[2], 0, ARGV[2])
if ARGV[6] ~= '' then redis.call('SET', KEYS[6], ARGV[6]) end
if redis.call('LLEN', KEYS[2]) == 0 then redis.call('SREM', KEYS[7], ARGV[7]) end
redis.call('ZADD', KEYS[8], 'XX', ARGV[5], ARGV[7])
settle_and_tell(cjson.decode(ARGV[4]), ARGV[2], ARGV[5], ARGV[8])
return 1
"""
)

# KEYS: lease, running, session, prompt, events, queue. ARGV: token, prompt id, events,
# now, stream max length. The prompt goes back to the head of the queue, not yet started.
_HAND_BACK = (
    _SETTLE_AND_TELL
    + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('LREM', KEYS[2], 0, ARGV[2])
redis.call('LPUSH', KEYS[6], ARGV[2])
redis.call('HSET', KEYS[4], 'state', '"queued"', 'started_at', 'null')
settle_and_tell(cjson.decode(ARGV[3]), ARGV[2], ARGV[4], ARGV[5])
return 1
"""
)


class Taken(IntEnum):
    FENCED = -1  # the lease was taken over: stop
    EMPTY = 0
    RUNNING = 1
    CLOSED = 2  # the session was closed: the item was cancelled, not run


@dataclass(frozen=True)
class Take:
    outcome: Taken
    prompt_id: str | None


class RunState:
    """The fenced transitions of one session's runs, for the holder of lease `token`."""

    def __init__(self, redis: Redis, session_id: str, token: str) -> None:
        self.redis = redis
        self.session_id = session_id
        self.token = token
        self._take = redis.register_script(_TAKE)
        self._finish = redis.register_script(_FINISH)
        self._hand_back = redis.register_script(_HAND_BACK)

    def held(self) -> bool:
        """Whether nobody took the lease over (a read: it works while writes are refused)."""
        current = self.redis.get(keys.lease(self.session_id))
        return current is not None and as_str(current) == self.token

    def take(self, closed_reason: str) -> Take:
        """Move the oldest waiting item to running, and the session to running, together."""
        s = self.session_id
        outcome, prompt_id = self._take(
            keys=[
                keys.lease(s),
                keys.queue(s),
                keys.running(s),
                keys.session(s),
                keys.events(s),
                keys.active_runs(),
                keys.cancel(s),
                keys.sessions_index(),
            ],
            args=[
                self.token,
                json.dumps(time.time()),
                s,
                keys.prompt(""),
                json.dumps(closed_reason),
            ],
        )
        return Take(Taken(int(outcome)), as_str(prompt_id) or None)

    def finish(self, prompt: Prompt, event: ProgressEvent, diff: str | None = None) -> bool:
        """Record the outcome, its event, the diff and the settled session in one step;
        False (and nothing written) if the lease was taken over."""
        prompt.finished_at = prompt.finished_at or time.time()
        s = self.session_id
        done = self._finish(
            keys=[
                keys.lease(s),
                keys.running(s),
                keys.session(s),
                keys.prompt(prompt.id),
                keys.events(s),
                keys.diff(s),
                keys.active_runs(),
                keys.sessions_index(),
            ],
            args=[
                self.token,
                prompt.id,
                json.dumps(prompt.to_redis()),
                _events(event),
                repr(time.time()),
                diff or "",
                s,
                STREAM_MAX_LEN,
            ],
        )
        return int(done) == 1

    def hand_back(self, prompt: Prompt, text: str) -> bool:
        """Put the prompt back at the head of the queue (the host is stopping) and say so."""
        s = self.session_id
        event = ProgressEvent(EventKind.INFO, text, prompt.id, {"resumes": True})
        done = self._hand_back(
            keys=[
                keys.lease(s),
                keys.running(s),
                keys.session(s),
                keys.prompt(prompt.id),
                keys.events(s),
                keys.queue(s),
            ],
            args=[self.token, prompt.id, _events(event), repr(time.time()), STREAM_MAX_LEN],
        )
        return int(done) == 1


def _events(*events: ProgressEvent) -> str:
    return json.dumps([[v for pair in e.to_fields().items() for v in pair] for e in events])
