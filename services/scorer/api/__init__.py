"""The scorer's FastAPI app."""
