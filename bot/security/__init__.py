"""The checks at the edges of what Repobox runs and stores: credentials sealed at rest, the
environment of every process it starts, signed links, path confinement for the agent's file
tools, and the bubblewrap sandbox. (Redaction of logs and replies is `bot.core.redaction`;
request signatures are checked by each surface in `handlers/`.)"""
