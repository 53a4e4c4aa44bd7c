"""Logging set-up: one format, and a filter that redacts secrets from every record."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.security.redaction import Redactor


class RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redactor(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
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
