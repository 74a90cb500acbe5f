"""The targets of the performance issue, and the table that sets each figure beside its target."""

from __future__ import annotations

# figure -> (target, "min" when higher is better, "max" when lower is better); SQLite figures.
TARGETS: dict[str, tuple[float, str]] = {
    "bulk_ingest_logs_per_s": (10_000, "min"),
    "humanloop_ingest_logs_per_s": (3_000, "min"),
    "bulk_ingest_vs_raw": (0.5, "min"),
    "latency_at_1000_per_s_p99_ms": (50, "max"),
    "list_newest_100_p95_ms": (20, "max"),
    "list_by_model_p95_ms": (50, "max"),
    "list_by_metadata_p95_ms": (100, "max"),
    "list_by_score_p95_ms": (100, "max"),
    "trace_20k_spans_p95_ms": (1000, "max"),
    "batch_update_1000_max_ms": (200, "max"),
    "rss_at_rest_mb": (150, "max"),
    "rss_peak_ingest_mb": (400, "max"),
    "bulk_ingest_evaluated_vs_plain": (0.8, "min"),
    "commit_to_score_p95_ms": (1000, "max"),
    "otlp_http_vs_bulk": (0.8, "min"),
    "otlp_grpc_vs_bulk": (0.8, "min"),
}


def verdict(name: str, value: float | None) -> str:
    if name not in TARGETS or value is None:
        return ""
    target, sense = TARGETS[name]
    met = value >= target if sense == "min" else value <= target
    return f"{'≥' if sense == 'min' else '≤'} {target:g} {'ok' if met else 'MISSED'}"


def table(results: dict[str, dict[str, float]]) -> str:
    backends = list(results)
    names = list(dict.fromkeys(name for figures in results.values() for name in figures))
    width = max(len(n) for n in names)
    lines = [f"{'figure':<{width}}  " + "".join(f"{b:>12}" for b in backends) + "  target (SQLite)"]
    for name in names:
        values = "".join(f"{results[b].get(name, float('nan')):>12g}" for b in backends)
        lines.append(
            f"{name:<{width}}  {values}  {verdict(name, results.get('sqlite', {}).get(name))}"
        )
    return "\n".join(lines)


def markdown(results: dict[str, dict[str, float]]) -> str:
    """The same table in Markdown, as docs/performance.md shows it."""
    backends = list(results)
    names = list(dict.fromkeys(name for figures in results.values() for name in figures))
    lines = [
        "| figure | " + " | ".join(backends) + " | target (SQLite) |",
        "| --- |" + " ---: |" * len(backends) + " --- |",
    ]
    for name in names:
        values = " | ".join(f"{results[b].get(name, float('nan')):g}" for b in backends)
        verdict_text = verdict(name, results.get("sqlite", {}).get(name))
        lines.append(f"| `{name}` | {values} | {verdict_text} |")
    return "\n".join(lines)
