"""The forum's FastAPI app."""
