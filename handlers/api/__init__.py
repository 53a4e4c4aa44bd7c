"""The JSON API, `/api/v1/`: sessions driven by scripts, CI jobs and other bots."""
