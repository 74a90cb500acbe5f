"""Clients of the LLM providers the server calls (the judge, Prompt calls)."""
