"""The GitLab and GitHub webhooks, inbound: `webhooks` (verify, read, dedupe, parse,
enqueue, shared by both) and one module per host for its payloads. Everything slow (the
host's API, permissions, the agent's context) happens in `jobs.forge_jobs`.
"""
