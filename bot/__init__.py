"""Repobox's domain and outbound side, in layers (docs/architecture.md): `core` at the
bottom, then `security`, `processes`, `git`, `checks`, `forges`, `sessions`, `identity`,
`agents`, `compare`, `progress`, `commands` and `surfaces`; `doctor` sits on top. A layer
imports only the layers below it (tests/test_layers.py holds the tree to that)."""
