"""Sandbox providers: bubblewrap, Docker, and the Kubernetes manifest renderer."""
