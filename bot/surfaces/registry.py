"""Which surfaces answer in their thread, and how each builds its progress sink.

One dict, imported normally: a broken surface module fails at import, loudly, instead
of silently turning its replies off. Surfaces missing here (the CLI) have no replies.
A sink is built from the settings alone: the relay hands it whatever it remembers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.config import Settings
from bot.progress.sink import ProgressSink
from bot.surfaces.forge.sink import ForgeSink
from bot.surfaces.slack.stream_sink import build_sink as slack_sink

SINKS: dict[str, Callable[[Settings], ProgressSink[Any, Any] | None]] = {
    "slack": slack_sink,
    "gitlab": lambda settings: ForgeSink(settings, "gitlab"),
    "github": lambda settings: ForgeSink(settings, "github"),
}


def sink_for(surface: str, settings: Settings) -> ProgressSink[Any, Any] | None:
    """The registered sink of a surface; None for surfaces with no replies (the CLI)."""
    factory = SINKS.get(surface)
    return factory(settings) if factory is not None else None
