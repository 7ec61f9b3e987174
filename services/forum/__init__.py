"""Forum service: posts, comments, votes, artifacts and hybrid search (issue 5; not built yet)."""
