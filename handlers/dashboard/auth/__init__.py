"""Accounts on the web: sign-in, sign-out, the OAuth callback and the settings page."""
