"""GitLab CI jobs' traces on the fake GitLab, and the Pipeline Hook that says a pipeline
failed.

Registered on an existing `FakeGitLab` with `GitLabJobs(fake)`. Route, as
docs.gitlab.com/api/jobs/#get-a-log-file describes it: `GET /projects/:id/jobs/:job_id/trace`
answers the job's log as plain text (404 for a job of another project). The hook follows
docs.gitlab.com/user/project/integrations/webhook_events/#pipeline-events.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .gitlab import ApiError, FakeGitLab, _Call


@dataclass
class Job:
    id: int
    name: str
    status: str
    log: str


@dataclass
class Pipeline:
    id: int
    project_id: int
    ref: str
    sha: str
    status: str
    jobs: list[Job] = field(default_factory=list)


class GitLabJobs:
    def __init__(self, fake: FakeGitLab) -> None:
        self.fake = fake
        self.pipelines: list[Pipeline] = []
        self._ids = itertools.count(9001)
        fake._api_route("GET", "projects/{id}/jobs/{job_id}/trace", self._trace)

    def add_pipeline(
        self, project_id: int, ref: str, sha: str, jobs: dict[str, tuple[str, str]]
    ) -> Pipeline:
        """A finished pipeline; `jobs`: name → (status, log text)."""
        with self.fake._state:
            pipeline = Pipeline(next(self._ids), project_id, ref, sha, "success")
            for name, (status, log) in jobs.items():
                pipeline.jobs.append(Job(next(self._ids), name, status, log))
            if any(j.status == "failed" for j in pipeline.jobs):
                pipeline.status = "failed"
            self.pipelines.append(pipeline)
            return pipeline

    def hook(self, pipeline: Pipeline, user: str) -> dict[str, Any]:
        with self.fake._state:
            project = self.fake.projects[pipeline.project_id]
            by = next(u for u in self.fake.users.values() if u.username == user)
            web_url = self.fake.web_url(project)
            return {
                "object_kind": "pipeline",
                "object_attributes": {
                    "id": pipeline.id,
                    "iid": pipeline.id - 9000,
                    "ref": pipeline.ref,
                    "tag": False,
                    "sha": pipeline.sha,
                    "before_sha": "0" * 40,
                    "source": "push",
                    "status": pipeline.status,
                    "detailed_status": pipeline.status,
                    "stages": ["test"],
                    "url": f"{web_url}/-/pipelines/{pipeline.id}",
                },
                "merge_request": None,
                "user": {"id": by.id, "name": by.name, "username": by.username},
                "project": {"id": project.id, **self.fake._hook_project(project)},
                "builds": [
                    {
                        "id": job.id,
                        "stage": "test",
                        "name": job.name,
                        "status": job.status,
                        "allow_failure": False,
                    }
                    for job in pipeline.jobs
                ],
            }

    async def _trace(self, c: _Call) -> web.Response:
        with self.fake._state:
            for pipeline in self.pipelines:
                for job in pipeline.jobs:
                    if str(job.id) == c.args["job_id"] and pipeline.project_id == c.p.id:
                        return web.Response(text=job.log, content_type="text/plain")
        raise ApiError(404, "404 Not found")
