"""The terminal's argument parser: it names the real problem with what was typed.

argparse checks missing positionals before unknown options, so `session new
--upload-pack=x` said "required: repo, prompt" (and an optional `prompt*` is listed as
required too, argparse's own quirk). This parser says first that the option is unknown,
and never calls the prompt required.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, NoReturn

REQUIRED = "the following arguments are required: "
OPTIONAL = frozenset({"prompt"})  # positionals with nargs="*", listed by argparse anyway


class CliParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors lead with an unknown option, if one was typed."""

    _typed: Sequence[str] = ()

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._typed = list(args) if args is not None else []
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        unknown = self.unknown_options()
        if unknown:
            message = (
                f"unknown option {', '.join(f'`{u}`' for u in unknown)} "
                f"(see `{self.prog} --help`; values that start with `-` are not accepted)"
            )
        elif message.startswith(REQUIRED):
            listed = message.removeprefix(REQUIRED).split(", ")
            names = [name for name in listed if name not in OPTIONAL]
            if names and len(names) < len(listed):
                message = f"{REQUIRED}{', '.join(names)} (the prompt is optional)"
        super().error(message)

    def unknown_options(self) -> list[str]:
        """Typed words that look like options this command does not have (before `--`)."""
        found = []
        for word in self._typed:
            if word == "--":
                break
            looks_like_option = word.startswith("-") and word != "-" and not _is_number(word)
            if looks_like_option and word.split("=", 1)[0] not in self._option_string_actions:
                found.append(word)
        return found


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True
