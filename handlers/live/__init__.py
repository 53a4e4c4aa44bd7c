"""The live session page (`GET /sessions/{id}`) and its Server-Sent Events stream."""
