"""Small typed values that cross Redis on the inbound/domain side.

Each has `to_dict`/`from_dict` (JSON only); `from_dict` also reads the older, untyped shapes
already stored, so no migration is needed. Import them from here:

- `ThreadContext` (`Session.context`): the issue or merge request a forge session works on.
- `Origin` (`Prompt.origin`): where a prompt was typed, tagged by surface.
- `MergeRequestRef` (`Session.merge_request`): the MR/PR a shipped session opened.
"""

from bot.values.merge_request import MergeRequestRef
from bot.values.origin import (
    CliOrigin,
    ForgeComment,
    ForgeOrigin,
    Origin,
    ReviewSpot,
    SlackOrigin,
    WebOrigin,
    origin_from_dict,
    origin_to_dict,
)
from bot.values.quote import Quote
from bot.values.thread_context import ThreadContext

__all__ = [
    "CliOrigin",
    "ForgeComment",
    "ForgeOrigin",
    "MergeRequestRef",
    "Origin",
    "Quote",
    "ReviewSpot",
    "SlackOrigin",
    "ThreadContext",
    "WebOrigin",
    "origin_from_dict",
    "origin_to_dict",
]
