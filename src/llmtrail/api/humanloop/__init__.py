"""The Humanloop v5 dialect: `/v5/...` with `X-API-KEY: KEY`."""
