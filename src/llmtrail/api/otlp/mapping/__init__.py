"""OTLP spans (and GenAI event records) as llmtrail logs, by the contract
`otel-mapping.md`: `spans` maps a span, `conventions` says which attribute feeds which field,
`messages` turns every convention's messages into OpenAI-style ones."""
