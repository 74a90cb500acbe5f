"""The targets of the performance issues, and the table that sets each figure beside them.

Targets are ratios to ceilings the same run measured on the same machine (see
`bench/ceilings.py`), so any machine can check them; the absolute figures are printed for
information. Every target holds for both databases.
"""

from __future__ import annotations

# figure -> (target, "min" when higher is better, "max" when lower is better).
TARGETS: dict[str, tuple[float, str]] = {
    # ÷ the minimal raw insert: executemany into a three-index table on SQLite, COPY on PostgreSQL
    "bulk_ingest_vs_raw_minimal": (0.6, "min"),
    # ÷ the same requests answered by an empty route on the same uvicorn setup
    "keywords_create_vs_empty_route": (0.5, "min"),
    "humanloop_ingest_vs_empty_route": (0.5, "min"),
    "latency_at_1000_per_s_p99_ms": (50, "max"),
    "list_newest_100_p95_ms": (20, "max"),
    "list_by_model_p95_ms": (50, "max"),
    "list_by_metadata_p95_ms": (100, "max"),
    "list_by_score_p95_ms": (100, "max"),
    # p95 of the trace route ÷ reading its 20,000 rows through the bare driver
    "trace_20k_vs_raw_read": (5, "max"),
    "batch_update_1000_max_ms": (200, "max"),
    "rss_at_rest_mb": (150, "max"),
    "rss_peak_ingest_mb": (400, "max"),
    "bulk_ingest_evaluated_vs_plain": (0.8, "min"),
    "commit_to_score_p95_ms": (1000, "max"),
    "otlp_http_vs_bulk": (0.8, "min"),
    "otlp_grpc_vs_bulk": (0.8, "min"),
    # the server's memory above its rest while it streams an export of 100,000 logs
    "export_peak_above_rest_mb": (50, "max"),
    # the UI's pages as a signed-in browser gets them (issue 17)
    "ui_logs_page_p95_ms": (100, "max"),
    "ui_log_detail_p95_ms": (100, "max"),
    "ui_dashboard_week_p95_ms": (300, "max"),
    # Humanloop's logs.list(search=...) over one File's logs (issue 20)
    "search_rare_p95_ms": (100, "max"),
    "search_missing_p95_ms": (100, "max"),
}


def verdict(name: str, value: float | None) -> str:
    if name not in TARGETS or value is None:
        return ""
    target, sense = TARGETS[name]
    met = value >= target if sense == "min" else value <= target
    return "ok" if met else "MISSED"


def target(name: str) -> str:
    if name not in TARGETS:
        return ""
    goal, sense = TARGETS[name]
    return f"{'≥' if sense == 'min' else '≤'} {goal:g}"


def _cell(results: dict[str, dict[str, float]], backend: str, name: str) -> tuple[str, str]:
    value = results[backend].get(name)
    return ("" if value is None else f"{value:g}"), verdict(name, value)


def table(results: dict[str, dict[str, float]]) -> str:
    backends = list(results)
    names = list(dict.fromkeys(name for figures in results.values() for name in figures))
    width = max(len(n) for n in names)
    header = "".join(f"{b:>19}" for b in backends)
    lines = [f"{'figure':<{width}}  {header}  target"]
    for name in names:
        cells = ""
        for backend in backends:
            value, mark = _cell(results, backend, name)
            cells += f"{value:>12} {mark:<6}"
        lines.append(f"{name:<{width}}  {cells}  {target(name)}")
    return "\n".join(lines)


def markdown(results: dict[str, dict[str, float]]) -> str:
    """The same table in Markdown, as docs/performance.md shows it."""
    backends = list(results)
    names = list(dict.fromkeys(name for figures in results.values() for name in figures))
    lines = [
        "| figure | " + " | ".join(backends) + " | target |",
        "| --- |" + " ---: |" * len(backends) + " --- |",
    ]
    for name in names:
        cells = [" ".join(filter(None, _cell(results, b, name))) for b in backends]
        lines.append(f"| `{name}` | {' | '.join(cells)} | {target(name)} |")
    return "\n".join(lines)
