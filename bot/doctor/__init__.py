"""Health of every integration, in plain words: `./dev doctor` and the admin health page."""
