"""How large the parts of a request may be, in one place (docs/reliability.md lists them).

The body as a whole is bounded by `LLMTRAIL_MAX_BODY_BYTES` (a setting, `config.py`); the
numbers inside it by `api/bounds.py`; bulk and page sizes by each dialect's contract. Here
are the bounds on the filter language (log lists of both dialects, automation conditions,
dataset queries) and on text a log stores in a column of bounded length: past them a
request is refused with a 4xx naming the field and the bound, where it would otherwise cost
the server a query of unbounded size, or fail in the database (PostgreSQL enforces a
column's length; SQLite would keep the text whole). Large text (messages, inputs, outputs,
notes, error messages, metadata values) stays bounded by the body size alone.
"""

from __future__ import annotations

# The filter language.
MAX_FILTER_DEPTH = 8  # filter_bundle inside filter_bundle: levels, the top one counted
MAX_FILTER_CONDITIONS = 200  # conditions in one filter, all levels together
MAX_FILTER_VALUES = 1000  # values of one condition (an `in` list)
MAX_FILTER_VALUE_CHARS = 10_000  # characters of one value (a `contains`, a regex, an id)
MAX_FILTER_FIELD_CHARS = 255  # characters of a field name (`metadata__KEY`, `scores__SLUG`)

# Stored text. A log's text columns hold at most their declared length (`store.tables`:
# ids 128, names and identifiers 255, ...); `core.logs.text_errors` reads it from the table.
MAX_METADATA_KEY_CHARS = 255  # a metadata key (the metadata index's key column)

# Keywords AI experiments: one run queues a job per (row, column), and a read answers every
# row with every column's result.
MAX_EXPERIMENT_ROWS = 1000  # rows of one experiment
MAX_EXPERIMENT_COLUMNS = 20  # columns of one experiment
