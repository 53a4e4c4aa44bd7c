"""The Slack surface, inbound: one route into Bolt, then an ordered chain.

`route` (the aiohttp route, Bolt, Socket Mode) → `request` (the typed payloads) → `filters`
(signature, self and bots, dedupe) → `listeners` (parse, then the executor) → `answers`
(the executor's replies as Slack text). `said` is a person's message; `replier` answers
one person privately. Rendering progress in threads is outbound: `bot/surfaces/`.
"""
