"""Compare: one prompt run by several models or agents side by side, then one is picked."""
