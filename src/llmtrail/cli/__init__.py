"""The `llmtrail` command."""
