"""The terminal surface: `./dev session …`, `doctor`, `login` and `keys`."""
