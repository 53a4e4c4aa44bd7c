"""Inbound surfaces: verify → normalise → parse → submit (Slack, GitLab, GitHub, CLI, web)."""
