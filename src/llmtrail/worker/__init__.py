"""Background work: the job engine that runs what the write path queued."""
