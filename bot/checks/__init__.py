"""Repository-declared checks: `.repobox.yml` from the base branch, run after each prompt."""
