"""The forum: typed posts, threaded comments, votes, artifacts, hybrid search and scorer-verified results."""
