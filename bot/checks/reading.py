"""`.repobox.yml` read from the session's base branch, parsed safely and validated.

Read from the base branch only, never from the work branch: the agent edits the work
branch, and must not be able to loosen its own gates. The file is parsed with PyYAML's
safe loader (no tags, no objects), keeping its node tree so that every mistake can be
named with its line (`bot.checks.problems`), and validated against `bot.checks.schema`.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.checks.config import FILENAME, MAX_BYTES, ChecksConfig, ConfigInvalid
from bot.checks.problems import problems
from bot.checks.schema import RepoboxFile, ReviewEntry
from bot.core.errors import NotFound
from bot.git.runner import git

SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def read_config(repo: Path, base: str) -> ChecksConfig:
    """The config on `base` (a branch name or a full commit id) of the git repository at
    `repo` (a mirror or a workdir); an empty config when the file is absent there.

    Only the base is read: the work branch, which the agent changes, is never consulted."""
    found = read_file(repo, base)
    if found is None:
        return ChecksConfig()
    valid, source = found
    return valid.config(source) if valid is not None else ChecksConfig(source=source)


def read_review(repo: Path, base: str) -> ReviewEntry:
    """The `review:` section on `base`, read as the checks are; the defaults without one."""
    found = read_file(repo, base)
    return found[0].review if found is not None and found[0] is not None else ReviewEntry()


def read_file(repo: Path, base: str) -> tuple[RepoboxFile | None, str] | None:
    """The whole file on `base`, validated, and where it came from; None when absent,
    `(None, source)` when empty; `ConfigInvalid` when wrong."""
    commit = _resolve(repo, base)
    blob = f"{commit}:{FILENAME}"
    kind = git("cat-file", "-t", "--end-of-options", blob, cwd=repo, check=False).strip()
    if kind != "blob":
        return None
    size = int(git("cat-file", "-s", "--end-of-options", blob, cwd=repo).strip())
    where = f"`{base}`"
    if size > MAX_BYTES:
        raise ConfigInvalid(where, [f"the file is {size} bytes; at most {MAX_BYTES} are read"])
    text = git("cat-file", "blob", "--end-of-options", blob, cwd=repo)
    return parse_file(text, where=where), f"{base}@{commit[:10]}"


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
    valid = parse_file(text, where=where)
    return valid.config(source) if valid is not None else ChecksConfig(source=source)


def parse_file(text: str, *, where: str = "the base branch") -> RepoboxFile | None:
    """Validate `text` (None when it holds nothing), or raise `ConfigInvalid`."""
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
        return None
    try:
        valid = RepoboxFile.model_validate(data)
    except ValidationError as invalid:
        raise ConfigInvalid(where, problems(invalid, data, node)) from None
    duplicated = problems(None, data, node)  # names used twice, in an otherwise valid file
    if duplicated:
        raise ConfigInvalid(where, duplicated)
    return valid
