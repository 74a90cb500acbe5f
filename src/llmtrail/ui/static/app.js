// Behaviour that needs script, kept out of the pages (the CSP allows no inline script).
// Rows of a table link to their page.
document.addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-href]");
  if (row && !event.target.closest("a, button, input")) window.location = row.dataset.href;
});
// A span's toggle: the first click loads its children (HTMX), later ones fold and unfold
// every row under it.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("button.toggle");
  if (!toggle) return;
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  toggle.textContent = (open ? "▾ " : "▸ ") + toggle.textContent.slice(2);
  if (!toggle.dataset.loaded) { toggle.dataset.loaded = "1"; return; }
  const prefix = toggle.dataset.path + "/";
  document.querySelectorAll(".tree .span[data-path]").forEach((row) => {
    if (!row.dataset.path.startsWith(prefix)) return;
    row.hidden = !open;
    const inner = row.querySelector("button.toggle");
    if (inner && open) inner.setAttribute("aria-expanded", "true");
  });
});
