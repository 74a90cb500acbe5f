// Behaviour that needs script, kept out of the pages (the CSP allows no inline script).
// Rows of a table link to their page.
document.addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-href]");
  if (row && !event.target.closest("a, button, input")) window.location = row.dataset.href;
});
