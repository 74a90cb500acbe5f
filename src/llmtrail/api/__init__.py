"""HTTP: one FastAPI app, one package per API dialect, all over the same domain core."""
