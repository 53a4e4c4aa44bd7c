"""Signatures, authorization, redaction, path confinement, crypto: the checks at the edges."""
