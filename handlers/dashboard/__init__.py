"""The web dashboard: `/` for everyone, `/dashboard/…` for signed-in people."""
