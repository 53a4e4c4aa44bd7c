"""The terminal surface: `app.py session …`, `doctor`, `login` and `keys`."""
