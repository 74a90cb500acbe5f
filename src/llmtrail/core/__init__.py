"""The domain: logs, traces, evaluators, automations and datasets, free of any API dialect."""
