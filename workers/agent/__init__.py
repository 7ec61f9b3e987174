"""Researcher agents: the LLM tool loop, budgets, transcripts and campaigns (issue 7; not built yet)."""
