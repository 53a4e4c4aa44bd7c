"""A failed CI run on a branch, and the failed jobs' log tails read through the forge's API.

GitHub: a `check_suite` that completed with `failure` (or a failed `check_run`, which names
its suite) has its failed check runs listed (`GET /repos/{o}/{r}/check-suites/{id}/check-runs`);
a failed `workflow_run` has its failed jobs listed (`GET /repos/{o}/{r}/actions/runs/{id}/jobs`).
An Actions check run's id is its job's, whose log (`GET /repos/{o}/{r}/actions/jobs/{id}/logs`) is a
redirect to a short-lived text file, fetched without our token. GitLab: a Pipeline Hook
with status `failed` lists its builds; a failed one's trace is
`GET /projects/:id/jobs/:job_id/trace`. Logs are untrusted and may print secrets: only
their tails are kept, ANSI colours dropped, and the deployment's secrets redacted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from bot.core.config import Settings
from bot.core.errors import RepoboxError
from bot.core.redaction import redact
from bot.forges.github import GitHubProvider
from bot.forges.gitlab import GitLabProvider
from bot.forges.provider import Provider

log = logging.getLogger(__name__)

TAIL_LINES = 100  # of each failed job's log
LINE_CHARS = 300  # one log line, at most
TAIL_CHARS = 8000  # one job's tail, at most
MAX_JOBS = 5  # failed jobs whose logs are read
MAX_LOG_BYTES = 5_000_000  # read of one log before its tail is cut
FAILED_RUNS = {"failure", "timed_out"}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


@dataclass(frozen=True)
class CiFailure:
    """What the webhook said: where CI failed, on which commit, and how to find its jobs."""

    provider: str
    project: str
    project_id: int
    branch: str
    sha: str
    url: str  # the suite's or pipeline's page, for people
    suite_id: int = 0  # GitHub's check suite
    run_id: int = 0  # GitHub's workflow run (its jobs are listed, not the suite's runs)
    jobs: tuple[tuple[int, str], ...] = ()  # GitLab's failed builds: (id, name)
    delivery: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "project": self.project,
            "project_id": self.project_id,
            "branch": self.branch,
            "sha": self.sha,
            "url": self.url,
            "suite_id": self.suite_id,
            "run_id": self.run_id,
            "jobs": [list(job) for job in self.jobs],
            "delivery": self.delivery,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CiFailure:
        return cls(
            provider=str(data["provider"]),
            project=str(data["project"]),
            project_id=int(data["project_id"]),
            branch=str(data["branch"]),
            sha=str(data["sha"]),
            url=str(data.get("url", "")),
            suite_id=int(data.get("suite_id", 0)),
            run_id=int(data.get("run_id", 0)),
            jobs=tuple((int(i), str(n)) for i, n in data.get("jobs", ())),
            delivery=str(data.get("delivery", "")),
        )


@dataclass(frozen=True)
class FailedJob:
    name: str
    tail: str  # redacted; "" when its log could not be read


def tail_of(text: str, settings: Settings) -> str:
    """The last TAIL_LINES lines, each and all capped, colours dropped, secrets redacted."""
    lines = _ANSI.sub("", text).rstrip().splitlines()[-TAIL_LINES:]
    kept = "\n".join(line[:LINE_CHARS] for line in lines)[-TAIL_CHARS:]
    return redact(kept, _secrets(settings))


def failed_jobs(provider: Provider, failure: CiFailure, settings: Settings) -> list[FailedJob]:
    """The failed jobs with their log tails; a log that cannot be read is left empty."""
    read: Callable[[int], str]
    if isinstance(provider, GitHubProvider):
        github = provider
        if failure.run_id:
            named = _github_run_failed(github, failure)
        else:
            named = _github_failed(github, failure)
        read = lambda job_id: _github_log(github, failure, job_id)  # noqa: E731
    elif isinstance(provider, GitLabProvider):
        gitlab = provider
        named = list(failure.jobs)
        read = lambda job_id: _gitlab_log(gitlab, failure, job_id)  # noqa: E731
    else:
        return []
    found: list[FailedJob] = []
    for job_id, name in named[:MAX_JOBS]:
        try:
            text = read(job_id)
        except (RepoboxError, requests.RequestException, OSError) as error:
            log.warning("log of %s job %s not read: %s", failure.project, job_id, error)
            text = ""
        found.append(FailedJob(name[:200], tail_of(text, settings) if text else ""))
    return found


def _github_failed(provider: GitHubProvider, failure: CiFailure) -> list[tuple[int, str]]:
    suite = provider._repo(failure.project).get_check_suite(failure.suite_id)
    runs = provider._call(
        "list the check suite's runs", lambda: list(suite.get_check_runs(filter="latest"))
    )
    return [(run.id, run.name) for run in runs if run.conclusion in FAILED_RUNS]


def _github_run_failed(provider: GitHubProvider, failure: CiFailure) -> list[tuple[int, str]]:
    """A workflow run's failed jobs (its latest attempt's)."""
    run = provider._repo(failure.project).get_workflow_run(failure.run_id)
    jobs = provider._call("list the workflow run's jobs", lambda: list(run.jobs("latest")))
    return [(job.id, job.name) for job in jobs if job.conclusion in FAILED_RUNS]


def _github_log(provider: GitHubProvider, failure: CiFailure, job_id: int) -> str:
    job = provider._repo(failure.project).get_workflow_job(job_id)
    location = provider._call("read the job's log", job.logs_url)
    return _download(location)


def _gitlab_log(provider: GitLabProvider, failure: CiFailure, job_id: int) -> str:
    project = provider.client.projects.get(failure.project_id, lazy=True)
    job = project.jobs.get(job_id, lazy=True)
    trace = provider._call("read the job's trace", job.trace)
    data = trace if isinstance(trace, bytes) else bytes(str(trace), "utf-8")
    return data[-MAX_LOG_BYTES:].decode("utf-8", "replace")


def _download(url: str) -> str:
    """The log file GitHub redirects to: a signed URL, fetched with no credentials."""
    with requests.get(url, timeout=30, stream=True, allow_redirects=True) as response:
        response.raise_for_status()
        chunks: list[bytes] = []
        for chunk in response.iter_content(65536):
            chunks.append(chunk)
            if sum(len(c) for c in chunks) > MAX_LOG_BYTES * 2:
                chunks = [b"".join(chunks)[-MAX_LOG_BYTES:]]
        return b"".join(chunks)[-MAX_LOG_BYTES:].decode("utf-8", "replace")


def _secrets(settings: Settings) -> list[str]:
    names = ("github_token", "gitlab_token", "github_webhook_secret", "gitlab_webhook_secret")
    return [str(v) for v in (getattr(settings, n, None) for n in names) if v]
