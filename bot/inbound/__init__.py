"""What arrives from the surfaces, read into typed values: the web process reads it, the
jobs read the same values again (so it lives in `bot/`, below both).

- `forge_events`: a GitLab/GitHub comment that mentions Repobox (`CommentEvent`).
- `forge_text`: what a reader of a comment sees, whether it mentions Repobox, and the command.
"""
