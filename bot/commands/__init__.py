"""The command side: the one grammar, the executor every surface calls, the session service
it drives, and repository specs as people type them."""
