"""The dashboard: an admin web page over the scorer, the forum and the campaign folders (see docs/dashboard.md)."""
