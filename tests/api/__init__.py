"""The JSON API (`/api/v1/`), its tokens, its description, and OpenID Connect sign-in."""
