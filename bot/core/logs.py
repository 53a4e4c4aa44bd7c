"""Logging set-up: one format, and a filter that redacts and bounds every record.

A log line often quotes what someone sent (Bolt logs whole unhandled bodies), so each
message is redacted, kept on one line (newlines escaped, so no one can forge a line) and
cut to `MAX_MESSAGE` characters; a traceback is cut to `MAX_TRACEBACK`.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from pathlib import Path

from bot.core.config import Settings
from bot.core.redaction import Redactor

MAX_MESSAGE = 2000
MAX_TRACEBACK = 8000
_PROJECT = str(Path(__file__).resolve().parents[2]) + "/"  # the checkout: bot/core/logs.py
_MARGIN = 256  # redact a little past the cut, so a token at the cut is still masked


def bounded(text: str, limit: int, redactor: Redactor) -> str:
    """Redact `text` and cut it to `limit` characters, in time linear in `limit`: only the
    part that is kept, plus a margin that holds any secret starting inside it, is read."""
    if len(text) <= limit:
        return redactor(text)
    head = redactor(text[: limit + max(_MARGIN, redactor.longest)])[:limit]
    return f"{head}… [{len(text) - limit} more characters]"


def one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def crash_summary(error: BaseException) -> str:
    """An exception in one line: its type, its message (cut), the innermost frame of our
    own code and the frame that raised it."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if _ours(f.filename)]
    shown = [*ours[-1:], *frames[-1:]] if ours and ours[-1] is not frames[-1] else frames[-1:]
    where = " → ".join(f"{_short(f.filename)}:{f.lineno} {f.name}" for f in shown)
    message = one_line(str(error))[:200]
    return f"{type(error).__name__}: {message} (at {where or 'unknown'})"


def crash_reference(logger: logging.Logger, what: str, error: BaseException | None = None) -> str:
    """Log a crash once and return the short reference people are shown instead of it.

    With `error`, one line (`crash_summary`: the web process answers many requests, and a
    traceback per bad one would drown the log); without, the current exception's traceback
    (jobs: rare, and worth the whole story)."""
    ref = uuid.uuid4().hex[:8]
    if error is None:
        logger.exception("%s (ref %s)", what, ref)
    else:
        logger.error("%s (ref %s): %s", what, ref, crash_summary(error))
    return ref


def _ours(filename: str) -> bool:
    return filename.startswith(_PROJECT) and "site-packages" not in filename


def _short(filename: str) -> str:
    return filename[len(_PROJECT) :] if _ours(filename) else Path(filename).name


class RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = one_line(bounded(message, MAX_MESSAGE, self.redactor))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = bounded(record.exc_text, MAX_TRACEBACK, self.redactor)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(settings: Settings, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(processName)s] %(name)s: %(message)s")
    )
    handler.addFilter(RedactingFilter(Redactor(settings.secret_values())))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "rq.worker", "rq.queue"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
