"""No token in any log line, suite-wide: every record the project's loggers make during a
test (at DEBUG) is scanned for the fakes' tokens and anything shaped like a forge or Slack
token. Masked forms (`glpat-****abcd`) do not match. Worker subprocesses log to files the
tests that start them read; this watches the test process."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

LOGGERS = ("bot", "handlers", "jobs", "repobox")
SHAPES = re.compile(
    r"glpat-[A-Za-z0-9_-]{8,}|gh[pousr]_[A-Za-z0-9]{8,}|xox[abpr]-[A-Za-z0-9-]{8,}"
    r"|\b(?:glpat-test|ghp_test)\b"
)


class Watch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = record.getMessage()
        except Exception:  # a malformed record is not ours to judge here
            return
        if record.exc_info and record.exc_info[1] is not None:
            line += f" {record.exc_info[1]}"
        for found in SHAPES.findall(line):
            self.leaks.append(f"{record.name}: {found[:10]}… in {line[:200]!r}")


@contextmanager
def watching() -> Iterator[Watch]:
    watch = Watch()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(watch)
        if logger.level == logging.NOTSET or logger.level > logging.DEBUG:
            logger.setLevel(logging.DEBUG)
    try:
        yield watch
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(watch)
            logger.setLevel(level)
