"""The web UI: server-rendered pages (Jinja2 + HTMX) over the same domain core as the APIs.

Served by `llmtrail serve` at `/`; its scripts and styles are vendored in `static/`, so
nothing is built or fetched to run it. Signed in with a session cookie, every form carries
a CSRF token (`ui.session`).
"""
