"""Every Lua script of Repobox: the state changes that must happen in one step in Redis.

A script changes a session, its queue, its prompts and its progress stream together, so
no crash between two writes can leave them contradicting each other. The stores run
these texts (`register_script`) and build their arguments: states arrive as the hash
fields store them (`stored`, from the Python enums) and events as `ProgressEvent`
encodes them (`bot.sessions.events.encoded`), so no script spells a state or an event
field of its own. Each script starts by naming its KEYS and ARGV.
"""

from __future__ import annotations

import json
from enum import StrEnum


def stored(state: StrEnum) -> str:
    """A state as a hash field holds it (one JSON value per field), for a script to compare
    with or write."""
    return json.dumps(state.value)


# -- sessions (bot.sessions.session) -------------------------------------------------------

# Moves the session's state only if the current one is among the allowed sources.
# The sync store (workers) and the async one (the web process) run this same text.
TRANSITION = """
local session = KEYS[1]
local to, updated_at = ARGV[1], ARGV[2]  -- ARGV[3..]: the allowed sources
local current = redis.call('HGET', session, 'state')
if not current then return {0, ''} end
for i = 3, #ARGV do
  if ARGV[i] == current then
    redis.call('HSET', session, 'state', to, 'updated_at', updated_at)
    return {1, current}
  end
end
return {0, current}
"""

# Deletes a key only while it holds the caller's value: a run lock only its holder
# releases, a thread binding only its own session unbinds (a newer session may hold it).
RELEASE_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# -- the queue (bot.sessions.prompts) ------------------------------------------------------

# Dedupe and enqueue in one step: a request already taken answers the prompt it made.
# `fields`: the new prompt's hash as JSON (its state queued); `ttl`: bot.core.dedupe.
SUBMIT = """
local request, prompt, prompts, queue = unpack(KEYS)
local prompt_id, fields, ttl = unpack(ARGV)
local existing = redis.call('GET', request)
if existing then return {0, existing} end
redis.call('SET', request, prompt_id, 'EX', ttl)
for name, value in pairs(cjson.decode(fields)) do redis.call('HSET', prompt, name, value) end
redis.call('HSET', prompt, 'seq', tostring(redis.call('LLEN', prompts) + 1))
redis.call('RPUSH', prompts, prompt_id)
redis.call('RPUSH', queue, prompt_id)
return {1, prompt_id}
"""

# Cancels every waiting item (cancel, archive, a closed session); returns their ids.
DROP_WAITING = """
local queue = KEYS[1]
local prefix, cancelled, reason, now = unpack(ARGV)
local dropped = {}
while true do
  local id = redis.call('LPOP', queue)
  if not id then return dropped end
  if redis.call('EXISTS', prefix .. id) == 1 then
    redis.call('HSET', prefix .. id, 'state', cancelled, 'error', reason, 'finished_at', now)
    dropped[#dropped + 1] = id
  end
end
"""

# -- the run lease (bot.sessions.runlock) --------------------------------------------------

# Takes the lock if free; returns the new fencing token, or false if held.
ACQUIRE = """
local lock, lease = unpack(KEYS)
local ttl_ms = ARGV[1]
if redis.call('EXISTS', lock) == 1 then return false end
local token = redis.call('INCR', lease)
redis.call('SET', lock, token, 'PX', ttl_ms)
return token
"""

# Renews, or takes back a lock that expired while nobody took over: 1 = still ours,
# 0 = taken over.
RENEW = """
local lock, lease = unpack(KEYS)
local token, ttl_ms = unpack(ARGV)
local current = redis.call('GET', lock)
if current == token then return redis.call('PEXPIRE', lock, ttl_ms) end
if not current and redis.call('GET', lease) == token then
  redis.call('SET', lock, token, 'PX', ttl_ms)
  return 1
end
return 0
"""

# -- a run's transitions (bot.sessions.runstate, bot.sessions.recovery) --------------------

# Shared by the scripts that end a run. `tell` appends encoded events; `settle` is the one
# settle rule: a running session goes back to pushed once it was shipped, else to ready,
# with the state event encoded for that state. `rule` (`runstate.settle_rule`): the running
# state, `at`, and for `ready` and `pushed` their name, stored state and event.
_SETTLE = """
local function tell(events, maxlen, encoded)
  for _, fields in ipairs(cjson.decode(encoded)) do
    redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', unpack(fields))
  end
end

local function settle(session, events, maxlen, rule)
  if redis.call('HGET', session, 'state') ~= rule.running then return false end
  local pushed = redis.call('HGET', session, 'pushed_commit')
  local to = (pushed and pushed ~= 'null') and rule.pushed or rule.ready
  redis.call('HSET', session, 'state', to.state, 'updated_at', rule.at)
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', unpack(to.event))
  return to.name
end
"""

# Moves the oldest waiting item to running and the session to running, together, for the
# lease's holder: {-1} fenced, {0} nothing to take, {1, id} taken, {2, id} cancelled (the
# session was closed). ARGV[10..]: the session states a run may start from.
TAKE = """
local lease, queue, running, session, active, cancel, index = unpack(KEYS)
local token, now, session_id, prefix, reason = unpack(ARGV, 1, 5)
local initializing, session_running, prompt_running, prompt_cancelled = unpack(ARGV, 6, 9)
if redis.call('GET', lease) ~= token then return {-1, ''} end
local state = redis.call('HGET', session, 'state')
if not state or state == initializing then return {0, ''} end
local id = redis.call('LMOVE', queue, running, 'LEFT', 'RIGHT')
if not id then return {0, ''} end
redis.call('DEL', cancel)
local prompt = prefix .. id
for i = 10, #ARGV do
  if state == ARGV[i] then
    redis.call('HSET', session, 'state', session_running, 'updated_at', now)
    redis.call('HSET', prompt, 'state', prompt_running, 'started_at', now)
    redis.call('SADD', active, session_id)
    redis.call('ZADD', index, 'XX', now, session_id)
    return {1, id}
  end
end
redis.call('LREM', running, 0, id)
redis.call('HSET', prompt, 'state', prompt_cancelled, 'error', reason, 'finished_at', now)
return {2, id}
"""

# Records a run's outcome (the prompt's state and fields, its events, the diff) and settles
# the session, for the lease's holder: 1 done, -1 fenced (nothing written).
FINISH = (
    _SETTLE
    + """
local lease, running, session, prompt, events, diff, active, index = unpack(KEYS)
local token, prompt_id, state, fields, told, now = unpack(ARGV, 1, 6)
local payload, session_id, maxlen, rule = unpack(ARGV, 7, 10)
if redis.call('GET', lease) ~= token then return -1 end
for name, value in pairs(cjson.decode(fields)) do redis.call('HSET', prompt, name, value) end
redis.call('HSET', prompt, 'state', state)
redis.call('LREM', running, 0, prompt_id)
if payload ~= '' then redis.call('SET', diff, payload) end
if redis.call('LLEN', running) == 0 then redis.call('SREM', active, session_id) end
redis.call('ZADD', index, 'XX', now, session_id)
tell(events, maxlen, told)
settle(session, events, maxlen, cjson.decode(rule))
return 1
"""
)

# Puts the running prompt back at the head of the queue, not yet started (the host is
# stopping), says so and settles the session: 1 done, -1 fenced.
HAND_BACK = (
    _SETTLE
    + """
local lease, running, session, prompt, events, queue = unpack(KEYS)
local token, prompt_id, queued, told, maxlen, rule = unpack(ARGV)
if redis.call('GET', lease) ~= token then return -1 end
redis.call('LREM', running, 0, prompt_id)
redis.call('LPUSH', queue, prompt_id)
redis.call('HSET', prompt, 'state', queued, 'started_at', 'null')
tell(events, maxlen, told)
settle(session, events, maxlen, cjson.decode(rule))
return 1
"""
)

# Claims a dead run, only if nobody holds the lock: takes the lease over (a new token) and
# returns {'lost', id, token} (it ran: it stays in the running slot and the active set
# until its failure is recorded), {'requeued', id, token} (taken but never started: back
# to the head of the queue), or false when there is nothing to claim.
CLAIM = """
local lock, running, active, lease, queue = unpack(KEYS)
local session_id, prefix, queued = unpack(ARGV)
if redis.call('EXISTS', lock) == 1 then return false end
local prompt = redis.call('LPOP', running)
if not prompt then redis.call('SREM', active, session_id) return false end
local token = redis.call('INCR', lease)
if redis.call('HGET', prefix .. prompt, 'state') == queued then
  redis.call('SREM', active, session_id)
  redis.call('LPUSH', queue, prompt)
  return {'requeued', prompt, token}
end
redis.call('LPUSH', running, prompt)
return {'lost', prompt, token}
"""

# CLAIM for a run whose worker is known dead: its lock (if still `ARGV[4]`, the dead
# holder's token) is dropped first, in the same step, so nothing can renew it in between.
CLAIM_DEAD = (
    """
if redis.call('GET', KEYS[1]) == ARGV[4] then redis.call('DEL', KEYS[1]) end
"""
    + CLAIM
)

# A session "running" with nothing running and nobody holding it: says so and settles it;
# returns the settled state, or false when it needs no repair.
REPAIR_RUNNING = (
    _SETTLE
    + """
local session, running, lock, events = unpack(KEYS)
local maxlen, told, rule = unpack(ARGV)
local settling = cjson.decode(rule)
if redis.call('HGET', session, 'state') ~= settling.running then return false end
if redis.call('EXISTS', lock) == 1 or redis.call('LLEN', running) > 0 then return false end
tell(events, maxlen, told)
return settle(session, events, maxlen, settling)
"""
)

# -- surfaces' placements (bot.progress.placements) ----------------------------------------

# Sets the placements' fields only while the relay still holds the session's lock (a relay
# whose lock expired under it must not overwrite what the next one saved), then renews
# the TTL. An empty token: no fence. ARGV[3..]: field, value, field, value …
FENCED_SAVE = """
local lock, placements = unpack(KEYS)
local token, ttl = ARGV[1], ARGV[2]
if token ~= '' and redis.call('GET', lock) ~= token then return 0 end
if #ARGV > 2 then redis.call('HSET', placements, unpack(ARGV, 3)) end
redis.call('EXPIRE', placements, ttl)
return 1
"""

# -- the dashboard's list (bot.sessions.listing) -------------------------------------------

# One page of session ids, most recent activity first, strictly after a cursor (a score and
# an id: the order is the index's, score then id, both descending). Read-only.
# KEYS[1]: the activity index (open sessions by last activity, or archived ones);
# KEYS[2]: a repository's set (or the activity index again when no repository filters);
# KEYS[3..]: the starter sets whose union is the viewer's sessions (none: everyone's).
# ARGV: the session hash's key prefix, the cursor's score ('+inf' on the first page) and
# id, the page size, the stored state wanted ('' any), the stored state left out ('' none),
# how many sessions to look at at most, and '1' if a repository filters.
# Few candidates (a person's sessions, a small repository) are sorted by their scores; many
# are found by walking the index and checking membership, so a page costs about its size.
# Returns {{id, score, …}, {next score, next id}}: no next cursor when nothing follows.
LIST_PAGE = """
local activity, repo = KEYS[1], KEYS[2]
local prefix, max_score, max_id = ARGV[1], ARGV[2], ARGV[3]
local want, wanted, unwanted = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local budget, filtered = tonumber(ARGV[7]), ARGV[8] == '1'
local top = math.huge
if max_score ~= '+inf' then top = tonumber(max_score) end

local function after(score, id)
  return score < top or (score == top and id < max_id)
end

local function shown(id)
  local state = redis.call('HGET', prefix .. id, 'state')
  if not state then return false end  -- deleted; the index entry goes with the next sweep
  if wanted ~= '' and state ~= wanted then return false end
  return unwanted == '' or state ~= unwanted
end

local rows, looked, last = {}, 0, nil
-- Looks at one session; returns the next cursor, {} when done, or nil to go on.
local function consider(id, score, member)
  looked = looked + 1
  if member and shown(id) then
    if #rows == want * 2 then return {rows[#rows], rows[#rows - 1]} end  -- one more follows
    rows[#rows + 1] = id
    rows[#rows + 1] = score
  end
  last = {score, id}
  if looked >= budget then return last end
  return nil
end

local members, count = nil, 0
if #KEYS > 2 or filtered then
  members = {}
  local sources = {}
  for i = 3, #KEYS do sources[#sources + 1] = KEYS[i] end
  if #sources == 0 then sources[1] = repo end
  for _, source in ipairs(sources) do
    for _, id in ipairs(redis.call('ZRANGE', source, 0, -1)) do
      if not members[id] and (not filtered or redis.call('ZSCORE', repo, id)) then
        members[id] = true
        count = count + 1
      end
    end
  end
end

local total = redis.call('ZCARD', activity)
if members and count * 16 < total then
  local found = {}
  for id in pairs(members) do
    local score = redis.call('ZSCORE', activity, id)
    if score and after(tonumber(score), id) then
      found[#found + 1] = {tonumber(score), id, score}
    end
  end
  table.sort(found, function(a, b)
    if a[1] ~= b[1] then return a[1] > b[1] end
    return a[2] > b[2]
  end)
  for _, item in ipairs(found) do
    local cursor = consider(item[2], item[3], true)
    if cursor then return {rows, cursor} end
  end
  return {rows, {}}
end

local offset = 0
while true do
  local chunk = redis.call(
    'ZREVRANGEBYSCORE', activity, max_score, '-inf', 'WITHSCORES', 'LIMIT', offset, 200)
  if #chunk == 0 then return {rows, {}} end
  for i = 1, #chunk, 2 do
    local id, score = chunk[i], chunk[i + 1]
    if after(tonumber(score), id) then
      local cursor = consider(id, score, members == nil or members[id] ~= nil)
      if cursor then return {rows, cursor} end
    end
  end
  offset = offset + 200
end
"""
