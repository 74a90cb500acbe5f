"""llmtrail benchmarks: `python -m bench`."""
