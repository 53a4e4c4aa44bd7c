"""The Slack surface, inbound: one route into Bolt, then an ordered chain.

`route` (the aiohttp route, the signature, Bolt, Socket Mode) → `request` (the typed
payloads) → `filters` (self and bots, allow-lists, dedupe) → `listeners` (parse, then the
executor; `slash` for commands, `buttons` for clicks, `workspace` for the sessions they
start and find) → `answers` (the executor's replies as Slack text). `said` is a person's
message; `replier` answers one person privately. Rendering progress in threads is
outbound: `bot/surfaces/`.
"""
