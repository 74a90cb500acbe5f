"""The schema, as SQLAlchemy Core tables shared by every dialect of the API.

Core tables rather than ORM classes: the hot paths are bulk inserts and filtered selects,
and a log has a column called `metadata`, which the declarative base reserves.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata_obj = MetaData(naming_convention=NAMING)

# JSONB on PostgreSQL (indexable, compact); SQLite's JSON1 functions read the text form.
Json = JSON().with_variant(JSONB(), "postgresql")
# A 64-bit key on PostgreSQL; on SQLite only INTEGER PRIMARY KEY aliases the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Id = String(128)
Name = String(255)

organizations = Table(
    "organizations",
    metadata_obj,
    Column("id", Integer, primary_key=True),
    Column("name", Name, nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata_obj,
    Column("id", Integer, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("name", Name, nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("environment", String(16), nullable=False),
    # What the key may do, as a member's role does: member (read and write) or viewer (read).
    Column("role", String(16), nullable=False, server_default="member"),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

# People who sign in (`core/users.py`); the email is stored lowercased, so it is unique
# whatever case it is typed in.
users = Table(
    "users",
    metadata_obj,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    # Set when disabled: the user can no longer sign in, and its tokens stop working.
    Column("disabled_at", DateTime),
)

# A user's role in each organization it belongs to: admin, member or viewer.
memberships = Table(
    "memberships",
    metadata_obj,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# Who created, changed or deleted keys, users, evaluators, automations, conditions, ...
# (`core/audit.py`), written in the transaction of the change.
audit_events = Table(
    "audit_events",
    metadata_obj,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("actor_type", String(8), nullable=False),  # user, key or cli (the operator)
    Column("actor_id", Integer),
    Column("action", String(16), nullable=False),  # created, changed, deleted
    Column("object_type", String(32), nullable=False),
    Column("object_id", Id, nullable=False),
    Column("changes", Json),
    Index(None, "org_id", "id"),
)

logs = Table(
    "logs",
    metadata_obj,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("unique_id", Id, nullable=False),
    Column("environment", String(16), nullable=False),
    Column("api_key_id", Integer),
    Column("log_type", String(32), nullable=False),
    Column("log_method", String(32)),
    Column("log_status", String(16)),
    # Humanloop Files: the File and version a log was written against.
    Column("file_id", Id),
    Column("version_id", Id),
    Column("timestamp", DateTime, nullable=False),
    Column("start_time", DateTime),
    # Set when the call ended; null while an incomplete Flow or Agent log is still running.
    Column("end_time", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("model", Name),
    Column("provider_id", String(64)),
    Column("status", String(16), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("error_message", Text),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("total_request_tokens", Integer),
    Column("prompt_cache_hit_tokens", Integer),
    Column("prompt_cache_creation_tokens", Integer),
    Column("reasoning_tokens", Integer),
    Column("cost", Float),
    Column("prompt_cost", Float),
    Column("completion_cost", Float),
    Column("latency", Float),
    Column("time_to_first_token", Float),
    Column("tokens_per_second", Float),
    Column("routing_time", Float),
    Column("customer_identifier", Name),
    Column("customer_email", Name),
    Column("customer_name", Name),
    Column("thread_identifier", Name),
    Column("session_identifier", Name),
    Column("custom_identifier", Name),
    Column("group_identifier", Name),
    Column("evaluation_identifier", Name),
    Column("prompt_id", Name),
    Column("prompt_name", Name),
    Column("trace_unique_id", Id),
    Column("span_unique_id", Id),
    Column("span_parent_id", Id),
    Column("span_name", Name),
    Column("span_workflow_name", Name),
    Column("stream", Boolean, nullable=False),
    Column("positive_feedback", Boolean),
    Column("note", Text),
    Column("blurred", Boolean, nullable=False),
    Column("input", Json),
    Column("output", Json),
    Column("prompt_messages", Json),
    Column("completion_message", Json),
    Column("metadata", Json),
    # Every other accepted telemetry field (LLM parameters, tools, raw payloads, ...).
    Column("extra", Json),
    UniqueConstraint("org_id", "unique_id"),
    Index(None, "org_id", "timestamp"),
    Index(None, "org_id", "model", "timestamp"),
    Index(None, "org_id", "customer_identifier", "timestamp"),
    Index(None, "org_id", "custom_identifier"),
    Index(None, "org_id", "thread_identifier"),
    Index(None, "org_id", "trace_unique_id"),
    Index(None, "org_id", "span_parent_id"),
    Index(None, "org_id", "file_id", "id"),
)


def _org_key() -> Column:
    """The organization, first part of a table's composite key."""
    return Column(
        "org_id",
        ForeignKey("organizations.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )


# Per hour, organization, environment and model: how many logs and the sums the summary is
# made of (`store/rollups.py`), so totals over whole hours are not read log by log.
log_rollups = Table(
    "log_rollups",
    metadata_obj,
    _org_key(),
    Column("hour", DateTime, primary_key=True),
    Column("environment", String(16), primary_key=True),
    Column("model", Name, primary_key=True),  # "" for logs without one
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
    Column("cost", Float, nullable=False),
    Column("tokens", BigInteger, nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("latency_sum", Float, nullable=False),
    Column("latency_n", BigInteger, nullable=False),
    Column("tps_sum", Float, nullable=False),
    Column("tps_n", BigInteger, nullable=False),
    Column("ttft_sum", Float, nullable=False),
    Column("ttft_n", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False, server_default="0"),
)

# Per hour and organization, the same sums by one value of a column the dashboard breaks
# its range down by (`facet`: model, customer_identifier or log_type; "" for none). Keyed
# facet first: a breakdown reads its own facet's hours, not every facet's (a week of a
# thousand customers is 168,000 rows that a breakdown by model would otherwise walk).
FACET_ROLLUP_KEY = ("org_id", "facet", "hour", "value", "slot")
log_facet_rollups = Table(
    "log_facet_rollups",
    metadata_obj,
    _org_key(),
    Column("hour", DateTime, primary_key=True),
    Column("facet", String(32), primary_key=True),
    Column("value", Name, primary_key=True),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    PrimaryKeyConstraint(*FACET_ROLLUP_KEY),
    Column("n", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("cost", Float, nullable=False),
    Column("tokens", BigInteger, nullable=False),
    Column("latency_sum", Float, nullable=False),
    Column("latency_n", BigInteger, nullable=False),
)

# Per hour and organization, how many logs took a latency in each bucket of a log scale
# (`store/rollups.latency_bucket`): the dashboard's percentiles are read off these counts.
log_latency_rollups = Table(
    "log_latency_rollups",
    metadata_obj,
    _org_key(),
    Column("hour", DateTime, primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
)

# One row per (log, top-level scalar metadata value) (`store/metadata_index.py`): equality
# filters on metadata keys find their logs here instead of reading every log's JSON.
log_metadata = Table(
    "log_metadata",
    metadata_obj,
    _org_key(),
    Column("key", Name, primary_key=True),
    Column("value", Name, primary_key=True),
    Column("timestamp", DateTime, primary_key=True),
    Column("log_id", BigId, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,  # the key is the whole row: one B-tree, no rowid table
)

log_revisions = Table(
    "log_revisions",
    metadata_obj,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("log_id", ForeignKey("logs.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("api_key_id", Integer),
    Column("source", String(32), nullable=False),
    Column("field", String(64), nullable=False),
    Column("old_value", Json),
    Column("new_value", Json),
    Index(None, "log_id", "id"),
)

# Humanloop Files (prompts, tools, flows, agents, evaluators), versioned by their kernel.
files = Table(
    "files",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("name", Name, nullable=False),
    Column("description", Text),  # a Keywords AI prompt's (Humanloop Files have none)
    # The number of the last version made (`file_versions.number`): numbers are never reused.
    Column("last_number", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("org_id", "path"),
)

file_versions = Table(
    "file_versions",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("file_id", ForeignKey("files.id", ondelete="CASCADE"), nullable=False),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    # The kernel (prompt, tool, flow attributes, agent, evaluator spec) and its digest.
    Column("kernel", Json, nullable=False),
    Column("kernel_hash", String(64), nullable=False),
    # Its ordinal in its File, from 1, never reused: a Keywords AI prompt version's `version`.
    Column("number", Integer, nullable=False),
    # A Keywords AI draft, editable until committed, deployed or logged (`core.prompt_versions`).
    Column("draft", Boolean, nullable=False, server_default=false()),
    Column("version_name", Name),
    Column("version_description", Text),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime),  # when a draft was last edited
    # Kept by the write path in the transaction that stores the logs: reads need no COUNT(*).
    Column("log_count", BigInteger, nullable=False, server_default="0"),
    Column("last_used_at", DateTime),
    UniqueConstraint("file_id", "kernel_hash"),
    UniqueConstraint("file_id", "number"),
    Index(None, "file_id", "created_at"),
)

# Humanloop Directories: a File's directory is the one at its path's parent. Paths are
# whole (`a/b/c`) and unique in the organization; `parent_id` is the directory at `a/b`.
directories = Table(
    "directories",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", ForeignKey("directories.id")),
    Column("name", Name, nullable=False),
    Column("path", String(1024), nullable=False),
    Column("description", Text),
    Column("readme", Text),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("org_id", "path"),
    Index(None, "parent_id"),
)

# A Tool's environment variables, each value sealed with the server's secret
# (`core/sealing.py`): the database alone never reveals one.
tool_secrets = Table(
    "tool_secrets",
    metadata_obj,
    Column("file_id", ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
    Column("name", Name, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("sealed", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# Humanloop environments of an organization (`production`, the default, and `staging` are
# made with its first use), and the File version deployed to each.
environments = Table(
    "environments",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("name", Name, nullable=False),
    Column("tag", String(16), nullable=False),  # default (one per organization), other
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("org_id", "name"),
)


def _deployments(name: str, owner: str, versions: str) -> Table:
    """The version of each `owner` row deployed to each environment. Files and Datasets
    (a File to Humanloop) have one such table each, with the same columns, so one set of
    queries (`store/environments.py`) serves both."""
    return Table(
        name,
        metadata_obj,
        Column("file_id", ForeignKey(f"{owner}.id", ondelete="CASCADE"), primary_key=True),
        Column(
            "environment_id", ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True
        ),
        Column("version_id", ForeignKey(f"{versions}.id", ondelete="CASCADE"), nullable=False),
        Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
        Column("deployed_at", DateTime, nullable=False),
        Index(None, "version_id"),
    )


deployments = _deployments("deployments", "files", "file_versions")

# Durable background work (`store/jobs.py`): written in the transaction of the change that
# causes it, claimed with a lease by any worker, retried with backoff, kept when it dies.
jobs = Table(
    "jobs",
    metadata_obj,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(64), nullable=False),
    # What made the job (e.g. an automation), for summaries and for cancelling its work.
    Column("origin", Name),
    # At most one live or finished job per key in an organization (say, one per evaluator
    # and log): enqueueing the same work twice is a no-op.
    Column("dedupe_key", Name),
    Column("payload", Json, nullable=False),
    Column("state", String(16), nullable=False),  # pending, running, done, dead, cancelled
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", DateTime, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", DateTime),
    Column("last_error", Text),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("org_id", "dedupe_key"),
    Index(None, "state", "run_after"),
    Index(None, "org_id", "origin", "state"),
)

# Evaluators (`core/evaluators.py`): what judges a log. Each is also a Humanloop File of type
# evaluator with the same id, whose versions the Humanloop dialect reads.
evaluators = Table(
    "evaluators",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("slug", Name, nullable=False),
    Column("name", Name, nullable=False),
    Column("kind", String(16), nullable=False),  # llm, code, rule, human
    Column("value_type", String(16), nullable=False),
    Column("description", Text, nullable=False),
    # The evaluator as clients describe it (llm_config, code_config, rule_config, score_config,
    # categorical_choices, passing_conditions, a Humanloop spec, ...), merged by updates.
    Column("definition", Json, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("org_id", "slug"),
)

# One score per (evaluator, log): what the evaluator said, or the error that stood in the way.
scores = Table(
    "scores",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("log_id", ForeignKey("logs.id", ondelete="CASCADE"), nullable=False),
    Column("log_unique_id", Id, nullable=False),
    # Kept when the evaluator is deleted: past scores stay, named as they were.
    Column("evaluator_id", Id, nullable=False),
    Column("evaluator_slug", Name, nullable=False),
    Column("evaluator_name", Name, nullable=False),
    Column("value_type", String(16), nullable=False),
    Column("numerical_value", Float),
    Column("string_value", Text),
    Column("boolean_value", Boolean),
    Column("categorical_value", Json),
    Column("json_value", Json),
    Column("is_passed", Boolean),
    Column("explanation", Text),
    Column("error", Text),
    # Who scored: an automation, the API, a Humanloop evaluator log (its id), a person.
    Column("source", String(64), nullable=False),
    Column("source_log_id", Id),
    Column("environment", String(16), nullable=False),
    Column("cost", Float),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("latency", Float),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("org_id", "evaluator_id", "log_id"),
    # Score filters and sorts: an evaluator's logs by value, found without reading logs.
    Index(None, "org_id", "evaluator_id", "numerical_value"),
    Index(None, "log_id"),
)

# Conditions (`core/conditions.py`): which logs an automation evaluates, as a rule policy.
conditions = Table(
    "conditions",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("slug", Name, nullable=False),
    Column("name", Name, nullable=False),
    Column("condition_type", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("policy", Json, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("org_id", "slug"),
)

# Automations (`core/automations.py`): evaluate, with these evaluators, the sampled share of
# new complete logs that match a condition (or that belong to a monitored File).
automations = Table(
    "automations",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("slug", Name, nullable=False),
    Column("name", Name, nullable=False),
    Column("automation_type", String(32), nullable=False),
    Column("condition_id", ForeignKey("conditions.id", ondelete="RESTRICT")),
    # A Humanloop File whose logs its monitoring evaluators judge.
    Column("file_id", Id),
    Column("evaluator_ids", Json, nullable=False),
    Column("configuration", Json, nullable=False),
    Column("is_enabled", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("org_id", "slug"),
    Index(None, "org_id", "is_enabled"),
)

# Datasets (`core/datasets.py`): named, frozen collections of logs, for both dialects (a
# Keywords AI dataset, a Humanloop Dataset File at `path`). `running_*` show a background
# add or removal in progress.
datasets = Table(
    "datasets",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("name", Name, nullable=False),
    Column("description", Text, nullable=False),
    Column("type", String(16), nullable=False),  # sampling or llm
    Column("status", String(16), nullable=False),
    Column("running_status", String(16)),
    Column("running_progress", Float),  # percent, 0 to 100
    Column("running_at", DateTime),
    # Where the Humanloop dialect files it; unique in the organization.
    Column("path", String(1024), nullable=False),
    # What it was first filled from: the filters and the time window.
    Column("initial_log_filters", Json),
    Column("start_time", DateTime),
    Column("end_time", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("org_id", "path"),
    Index(None, "org_id", "created_at"),
)

# Committed states of a dataset (Humanloop versions), numbered 1, 2, ... in its dataset.
dataset_versions = Table(
    "dataset_versions",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("dataset_id", ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("version_name", Name),
    Column("version_description", Text),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("dataset_id", "number"),
)

# The Dataset version deployed to each environment.
dataset_deployments = _deployments("dataset_deployments", "datasets", "dataset_versions")

# The columns of a log a dataset log copies when it is added: a snapshot, not a reference.
SNAPSHOT_COLUMNS = tuple(c.name for c in logs.columns if c.name not in ("id", "org_id"))

# A dataset's logs: each a copy of a log (keeping its `unique_id`; `source_log_id` is the log's
# key when it was copied) or a datapoint created directly (no source), with a `target`. A row
# belongs to the versions numbered from `added_in` up to, not including, `removed_in`; the
# dataset's current content is its rows with no `removed_in`, one per unique_id.
dataset_logs = Table(
    "dataset_logs",
    metadata_obj,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("dataset_id", ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("source_log_id", BigId),
    Column("added_in", Integer, nullable=False),
    Column("removed_in", Integer),
    Column("added_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("target", Json),
    *(
        Column(c.name, c.type, nullable=c.nullable)
        for c in logs.columns
        if c.name in SNAPSHOT_COLUMNS
    ),
    Index(
        "uq_dataset_logs_current",
        "dataset_id",
        "unique_id",
        unique=True,
        sqlite_where=text("removed_in IS NULL"),
        postgresql_where=text("removed_in IS NULL"),
    ),
    Index(None, "dataset_id", "added_in"),
)

# Runs of evaluators over every log of a dataset (`core/dataset_evals.py`), and what each
# evaluator said of each log in a run.
dataset_eval_reports = Table(
    "dataset_eval_reports",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("dataset_id", ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("evaluator_ids", Json, nullable=False),
    Column("evaluator_slugs", Json, nullable=False),
    Column("status", String(16), nullable=False),  # running, completed, failed
    Column("log_count", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index(None, "dataset_id", "created_at"),
)

dataset_eval_results = Table(
    "dataset_eval_results",
    metadata_obj,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("report_id", ForeignKey("dataset_eval_reports.id", ondelete="CASCADE"), nullable=False),
    Column("dataset_log_id", BigId, nullable=False),
    Column("log_unique_id", Id, nullable=False),
    Column("evaluator_id", Id, nullable=False),
    Column("evaluator_slug", Name, nullable=False),
    Column("evaluator_name", Name, nullable=False),
    Column("value_type", String(16), nullable=False),
    Column("numerical_value", Float),
    Column("string_value", Text),
    Column("boolean_value", Boolean),
    Column("categorical_value", Json),
    Column("json_value", Json),
    Column("is_passed", Boolean),
    Column("explanation", Text),
    Column("error", Text),
    Column("environment", String(16), nullable=False),
    Column("cost", Float),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("latency", Float),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("report_id", "evaluator_id", "dataset_log_id"),
)

# The answers of writes sent with an `Idempotency-Key` header, stored in the transaction of
# the write itself: a retry of the same request (same key, same fingerprint) is answered
# from here until `expires_at`, and writes nothing again.
idempotency_keys = Table(
    "idempotency_keys",
    metadata_obj,
    Column("org_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("key", Name, primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # sha256 of method, path and body
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),  # the answer's JSON
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index(None, "expires_at"),
)

# Per organization, what the server masks in logs as they arrive and how long it keeps them
# (`core/privacy.py`, `core/retention.py`). No row: nothing masked, logs kept forever.
org_privacy = Table(
    "org_privacy",
    metadata_obj,
    Column("org_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("maskers", Json, nullable=False),  # names of built-in maskers switched on
    Column("custom_patterns", Json, nullable=False),  # regexes, each match masked
    Column("retention_days", Integer),  # null: keep forever
    Column("updated_at", DateTime, nullable=False),
)

# Humanloop Evaluations (`core/hl_evaluations.py`): a File judged by Evaluators, run by run.
# A Run snapshots a Dataset version and an evaluated File version; its Logs are the File's
# own logs (posted with `run_id`), so their judgments are their scores.
evaluations = Table(
    "evaluations",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("file_id", ForeignKey("files.id", ondelete="CASCADE"), nullable=False),
    Column("name", Name),  # unique among the File's Evaluations (nulls apart)
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("file_id", "name"),
    Index(None, "org_id", "file_id", "created_at"),
)

# The Evaluators of an Evaluation: an evaluator File (its id is the evaluator's) at the
# version named when it was added; `orchestrated` ones are run by the server.
evaluation_evaluators = Table(
    "evaluation_evaluators",
    metadata_obj,
    Column(
        "evaluation_id",
        ForeignKey("evaluations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("evaluator_id", Id, primary_key=True),
    Column("version_id", Id, nullable=False),
    Column("orchestrated", Boolean),  # null: by its kind (`core.hl_evaluations`)
    Column("position", Integer, nullable=False),  # in the order they were named
    Column("added_at", DateTime, nullable=False),
)

evaluation_runs = Table(
    "evaluation_runs",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("file_id", Id),
    Column("version_id", Id),  # the evaluated File version
    Column("dataset_id", Id),
    Column("dataset_version_id", Id),
    Column("datapoint_count", Integer, nullable=False),  # of that Dataset version
    Column("orchestrated", Boolean, nullable=False),
    # pending, running, completed, cancelled as set; `completed` is also derived on read.
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index(None, "org_id", "status"),
)

# Which Evaluations show a Run (the one it was made in, and those it was added to).
evaluation_run_members = Table(
    "evaluation_run_members",
    metadata_obj,
    Column(
        "evaluation_id",
        ForeignKey("evaluations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("run_id", ForeignKey("evaluation_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("control", Boolean, nullable=False),
    Column("added_at", DateTime, nullable=False),
    Index(None, "run_id"),
)

# The Logs of a Run, each with the Datapoint it was made from (if any).
evaluation_run_logs = Table(
    "evaluation_run_logs",
    metadata_obj,
    Column("run_id", ForeignKey("evaluation_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("log_id", ForeignKey("logs.id", ondelete="CASCADE"), primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("log_unique_id", Id, nullable=False),
    Column("datapoint_id", Id),
    Column("added_at", DateTime, nullable=False),
    Index(None, "log_id"),
)

# Keywords AI experiments (`core/experiments.py`): rows (inputs, an ideal output) run
# through columns (prompt configurations); each cell's result is a log of its own.
experiments = Table(
    "experiments",
    metadata_obj,
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("name", Name, nullable=False),
    Column("description", Text, nullable=False),
    # The evaluators `run-evals` ran, in the order first asked for: what the aggregates show.
    Column("evaluator_ids", Json, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index(None, "org_id", "created_at"),
)

# A column: a prompt configuration (model, parameters, `prompt_messages` with {{variables}},
# tools), its id the client's or ours.
experiment_columns = Table(
    "experiment_columns",
    metadata_obj,
    Column("experiment_id", ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True),
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("config", Json, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# A row: the variables its columns' templates are filled with, and the output hoped for.
experiment_rows = Table(
    "experiment_rows",
    metadata_obj,
    Column("experiment_id", ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True),
    Column("id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("input", Json, nullable=False),
    Column("ideal_output", Text),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# A cell: the latest run of a column over a row. `id` is that run's (a new one per run, so
# a job of an older run finds itself superseded); the log is the call, as logged.
experiment_results = Table(
    "experiment_results",
    metadata_obj,
    Column("experiment_id", ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True),
    Column("row_id", Id, primary_key=True),
    Column("column_id", Id, primary_key=True),
    Column("org_id", ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("id", Id, nullable=False),
    Column("status", String(16), nullable=False),  # running, completed, error
    Column("log_id", ForeignKey("logs.id", ondelete="SET NULL")),
    Column("log_unique_id", Id),
    Column("output", Json),
    Column("error", Text),
    Column("metrics", Json),
    Column("ran_at", DateTime),
    Column("updated_at", DateTime, nullable=False),
    Index(None, "log_id"),
)
