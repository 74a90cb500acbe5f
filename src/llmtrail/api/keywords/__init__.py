"""The Keywords AI dialect: `/api/request-logs/...` with `Authorization: Bearer KEY`."""
