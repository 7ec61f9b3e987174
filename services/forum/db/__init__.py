"""The forum's tables, queries and migrations."""
