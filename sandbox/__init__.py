"""Isolated workspaces: provider interface, Docker / bubblewrap / Kubernetes providers (issue 6; not built yet)."""
