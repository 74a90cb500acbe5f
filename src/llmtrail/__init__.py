"""llmtrail: self-hosted LLM observability speaking the Keywords AI and Humanloop APIs."""

__version__ = "0.1.0"
