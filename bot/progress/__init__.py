"""The outbound pipeline: events in a stream, a view folded from them, one relay.

Jobs and agents append `ProgressEvent`s; the relay (`bot.progress.relay`) follows the
stream and hands new events to the session's surface, which only renders and sends.
"""

from bot.progress.events import (
    ARCHIVED_TTL,
    STREAM_MAX_LEN,
    TERMINAL_KINDS,
    EventKind,
    ProgressEvent,
    ProgressStream,
)

__all__ = [
    "ARCHIVED_TTL",
    "STREAM_MAX_LEN",
    "TERMINAL_KINDS",
    "EventKind",
    "ProgressEvent",
    "ProgressStream",
]
