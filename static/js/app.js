// Behaviour that would otherwise be inline handlers: the Content-Security-Policy allows scripts
// from our own static files only (docs/security.md).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-action='print']");
  if (button) {
    window.print();
  }
});
