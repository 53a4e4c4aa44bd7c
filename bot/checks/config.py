"""`.repobox.yml`: the checks a repository declares, read from the session's base branch.

Read from the base branch only, never from the work branch: the agent edits the work
branch, and must not be able to loosen its own gates. The file is parsed with PyYAML's
safe loader (no tags, no objects) and validated field by field; every problem is named
with its line and field and what was expected, so the person who wrote the file can fix
it from the thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.errors import NotFound, UserError
from bot.git.runner import git

FILENAME = ".repobox.yml"
MAX_BYTES = 64 * 1024
MAX_CHECKS = 20
MAX_SETUP = 20
MAX_AUTOFIX = 5
DEFAULT_TIMEOUT = 600.0
MAX_TIMEOUT = 3600.0
SETUP_TIMEOUT = 1800.0
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.:/-]{0,39}")
TOP_KEYS = ("setup", "checks", "autofix")
CHECK_KEYS = ("name", "run", "timeout", "required", "paths")
SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
MISSING = object()  # a required field that is not there at all


@dataclass(frozen=True)
class Check:
    name: str
    run: str
    timeout: float = DEFAULT_TIMEOUT
    required: bool = True
    paths: tuple[str, ...] = ()  # globs; empty means "whatever changed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "run": self.run,
            "timeout": self.timeout,
            "required": self.required,
            "paths": list(self.paths),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(
            name=str(data["name"]),
            run=str(data["run"]),
            timeout=float(data.get("timeout", DEFAULT_TIMEOUT)),
            required=bool(data.get("required", True)),
            paths=tuple(str(p) for p in data.get("paths", ())),
        )


@dataclass(frozen=True)
class ChecksConfig:
    setup: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    autofix: int = 0
    source: str = ""  # "main@1a2b3c4d5e" or "" when the repository has no file

    @property
    def found(self) -> bool:
        return bool(self.source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "setup": list(self.setup),
            "checks": [c.to_dict() for c in self.checks],
            "autofix": self.autofix,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChecksConfig:
        return cls(
            setup=tuple(str(s) for s in data.get("setup", ())),
            checks=tuple(Check.from_dict(c) for c in data.get("checks", ())),
            autofix=int(data.get("autofix", 0)),
            source=str(data.get("source", "")),
        )


class ConfigInvalid(UserError):
    """`.repobox.yml` cannot be used; `problems` are the lines to show, one per mistake."""

    def __init__(self, where: str, problems: list[str]) -> None:
        listed = "\n".join(f"• {p}" for p in problems)
        super().__init__(
            f"`{FILENAME}` on {where} is not valid, so no checks ran:\n{listed}",
            hint=f"Fix `{FILENAME}` on the base branch; see the README's `{FILENAME}` section.",
        )
        self.problems = problems


def read_config(repo: Path, base: str) -> ChecksConfig:
    """The config on `base` (a branch name or a full commit id) of the git repository at
    `repo` (a mirror or a workdir); an empty config when the file is absent there.

    Only the base is read: the work branch, which the agent changes, is never consulted."""
    commit = _resolve(repo, base)
    blob = f"{commit}:{FILENAME}"
    kind = git("cat-file", "-t", "--end-of-options", blob, cwd=repo, check=False).strip()
    if kind != "blob":
        return ChecksConfig()
    size = int(git("cat-file", "-s", "--end-of-options", blob, cwd=repo).strip())
    where = f"`{base}`"
    if size > MAX_BYTES:
        raise ConfigInvalid(where, [f"the file is {size} bytes; at most {MAX_BYTES} are read"])
    text = git("cat-file", "blob", "--end-of-options", blob, cwd=repo)
    return parse_config(text, where=where, source=f"{base}@{commit[:10]}")


def _resolve(repo: Path, base: str) -> str:
    """A commit id for `base`, which must be a plain branch name or a full commit id."""
    if SHA.fullmatch(base):
        ref = f"{base}^{{commit}}"
    else:
        valid = git("check-ref-format", "--branch", base, cwd=repo, check=False).strip()
        if not valid or base.startswith("-"):
            raise NotFound(f"`{base}` is not a branch name.")
        ref = f"refs/heads/{base}^{{commit}}"
    commit = git(
        "rev-parse", "--verify", "--quiet", "--end-of-options", ref, cwd=repo, check=False
    ).strip()
    if not commit:
        raise NotFound(f"The repository has no branch or commit `{base}`.")
    return commit


def parse_config(
    text: str, *, where: str = "the base branch", source: str = FILENAME
) -> ChecksConfig:
    """Validate `text` and build the config, or raise `ConfigInvalid` listing every problem."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or "it is not valid YAML"
        raise ConfigInvalid(where, [f"{line}{problem} (the file is not valid YAML)"]) from None
    finally:
        loader.dispose()
    if data is None or node is None:
        return ChecksConfig(source=source)
    checker = _Checker(node)
    config = checker.config(data)
    if checker.problems:
        raise ConfigInvalid(where, checker.problems)
    return ChecksConfig(config.setup, config.checks, config.autofix, source)


class _Checker:
    """Walks the loaded value beside its YAML node, so each problem can name its line."""

    def __init__(self, root: yaml.Node) -> None:
        self.root = root
        self.found: list[tuple[int, str]] = []

    @property
    def problems(self) -> list[str]:
        """In the order of the file, so they read top to bottom."""
        return [text for _, text in sorted(self.found, key=lambda item: item[0])]

    def fail(self, node: yaml.Node | None, field: str, expected: str, got: object = None) -> None:
        number = node.start_mark.line + 1 if node is not None else 0
        line = f"line {number}, " if number else ""
        if got is not None and got is not MISSING and isinstance(node, yaml.ScalarNode):
            got = node.value or got  # as written: `yes`, not `True`
        shown = "" if got is None else f", got {_show(got)}"
        self.found.append((number, f"{line}`{field}`: expected {expected}{shown}"))

    def config(self, data: object) -> ChecksConfig:
        if not isinstance(data, dict):
            self.fail(self.root, "(top level)", "a mapping with setup, checks and autofix", data)
            return ChecksConfig()
        self.unknown(self.root, data, TOP_KEYS, "")
        setup = self.commands(data.get("setup"), _child(self.root, "setup"))
        checks = self.checks(data.get("checks"), _child(self.root, "checks"))
        autofix = self.integer(data.get("autofix", 0), _child(self.root, "autofix"), "autofix")
        return ChecksConfig(setup, checks, autofix)

    def unknown(
        self, node: yaml.Node, data: dict[Any, Any], known: tuple[str, ...], at: str
    ) -> None:
        for key in data:
            if key not in known:
                self.fail(
                    _key_node(node, key),
                    f"{at}{key}",
                    "one of " + ", ".join(known) + " (unknown key)",
                )

    def commands(self, value: object, node: yaml.Node | None) -> tuple[str, ...]:
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or len(items) > MAX_SETUP:
            self.fail(node, "setup", f"a list of up to {MAX_SETUP} shell commands", value)
            return ()
        found = []
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                self.fail(_item(node, index), f"setup[{index}]", "a shell command", item)
            else:
                found.append(item)
        return tuple(found)

    def checks(self, value: object, node: yaml.Node | None) -> tuple[Check, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > MAX_CHECKS:
            self.fail(node, "checks", f"a list of up to {MAX_CHECKS} checks", value)
            return ()
        found: list[Check] = []
        for index, item in enumerate(value):
            check = self.check(item, _item(node, index), f"checks[{index}]")
            if check is None:
                continue
            if any(c.name == check.name for c in found):
                self.fail(
                    _item(node, index), f"checks[{index}].name", "a name used once", check.name
                )
                continue
            found.append(check)
        return tuple(found)

    def check(self, value: object, node: yaml.Node | None, at: str) -> Check | None:
        if not isinstance(value, dict):
            self.fail(node, at, "a mapping with name and run", value)
            return None
        before = len(self.found)
        if node is not None:
            self.unknown(node, value, CHECK_KEYS, f"{at}.")
        name, run = value.get("name", MISSING), value.get("run", MISSING)
        if not isinstance(name, str) or not NAME.fullmatch(name):
            self.fail(
                _child(node, "name") or node,
                f"{at}.name",
                "a short name (letters, digits, spaces, `_.:/-`; at most 40 characters)",
                name,
            )
        if not isinstance(run, str) or not run.strip():
            self.fail(_child(node, "run") or node, f"{at}.run", "a shell command", run)
        timeout = self.seconds(value.get("timeout", DEFAULT_TIMEOUT), _child(node, "timeout"), at)
        required = value.get("required", True)
        if not isinstance(required, bool):
            self.fail(_child(node, "required"), f"{at}.required", "true or false", required)
        paths = self.globs(value.get("paths"), _child(node, "paths"), at)
        if len(self.found) > before:
            return None
        assert isinstance(name, str) and isinstance(run, str) and isinstance(required, bool)
        return Check(name, run, timeout, required, paths)

    def seconds(self, value: object, node: yaml.Node | None, at: str) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (1 <= value <= MAX_TIMEOUT)
        ):
            self.fail(node, f"{at}.timeout", f"seconds between 1 and {MAX_TIMEOUT:.0f}", value)
            return DEFAULT_TIMEOUT
        return float(value)

    def integer(self, value: object, node: yaml.Node | None, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AUTOFIX:
            self.fail(node, field, f"a whole number from 0 to {MAX_AUTOFIX}", value)
            return 0
        return value

    def globs(self, value: object, node: yaml.Node | None, at: str) -> tuple[str, ...]:
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(p, str) and p for p in items):
            self.fail(node, f"{at}.paths", 'a list of globs such as ["**/*.py"]', value)
            return ()
        return tuple(str(p) for p in items)


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node under `key` of a mapping node, if there is one."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return _node(value_node)
    return None


def _key_node(node: yaml.Node, key: object) -> yaml.Node:
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
                return key_node
    return node


def _node(value: object) -> yaml.Node | None:
    return value if isinstance(value, yaml.Node) else None


def _item(node: yaml.Node | None, index: int) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and index < len(node.value):
        return _node(node.value[index])
    return node


def _show(value: object) -> str:
    """A value as the person wrote it, short: `soon`, a list, a mapping."""
    if value is MISSING:
        return "nothing (it is missing)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = "nothing" if value is None else str(value).replace("`", "'")
    text = text if len(text) <= 40 else text[:39] + "…"
    return f"`{text}`"
