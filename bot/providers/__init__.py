"""Git hosts behind one interface: `local` (any git remote or path), `gitlab`, `github`.

`bot.repo_spec.parse` turns what a person typed into a `RepoSpec` (provider, project)
without touching the network; `registry.for_name` builds the provider, whose `resolve`
(in a job) asks the host for the clone URL and default branch. This package imports no
host library itself: the web process reads `forge.ReplyTarget` without loading them.
"""
