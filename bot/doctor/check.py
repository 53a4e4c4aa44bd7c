"""One line of the doctor's report: a name, a level, what was found and what to do next.

A plain value with `to_dict`/`from_dict`: the web process hands its report to the terminal
through Redis (`bot.doctor.exchange`), and the health page renders the same list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but a person should know (no sandbox)
    FAIL = "fail"


MARKS = {Level.OK: "ok  ", Level.WARN: "warn", Level.FAIL: "FAIL"}


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str  # what was found, in plain words; never a token
    next_step: str = ""  # what a person can do about it ("" when nothing is needed)
    configured: bool = True  # False: the integration is not set up (which is fine)

    @property
    def ok(self) -> bool:
        return self.level is not Level.FAIL

    @property
    def line(self) -> str:
        mark = MARKS[self.level] if self.configured else "--  "
        step = f"\n       → {self.next_step}" if self.next_step else ""
        return f"{mark} {self.name}: {self.detail}{step}"

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "level": self.level.value,
            "detail": self.detail,
            "next_step": self.next_step,
            "configured": self.configured,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Check:
        return cls(
            name=str(data["name"]),
            level=Level(str(data["level"])),
            detail=str(data["detail"]),
            next_step=str(data.get("next_step") or ""),
            configured=bool(data.get("configured", True)),
        )


def fine(name: str, detail: str) -> Check:
    return Check(name, Level.OK, detail)


def warn(name: str, detail: str, next_step: str) -> Check:
    return Check(name, Level.WARN, detail, next_step)


def fail(name: str, detail: str, next_step: str = "") -> Check:
    return Check(name, Level.FAIL, detail, next_step)


def skipped(name: str, what: str) -> Check:
    return Check(name, Level.OK, f"not configured ({what})", configured=False)
