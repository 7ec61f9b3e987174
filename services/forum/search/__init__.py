"""Hybrid search: full-text (Postgres tsvector / SQLite FTS5) and embeddings, merged by reciprocal-rank fusion."""
