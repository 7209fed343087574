// Behaviour that would otherwise be inline handlers: the Content-Security-Policy allows scripts
// from our own static files only (docs/security.md).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-action='print']");
  if (button) {
    window.print();
  }
});

// An environment list next to a function type (issue 16): only the environments of the kind the
// chosen function is held in, and a search box above the list. Without JavaScript the full list
// shows and the server refuses a wrong kind with a message.
function environmentListNarrow(select) {
  const source = document.getElementById(select.dataset.kindFrom);
  const search = document.createElement("input");
  search.type = "search";
  search.className = "form-control form-control-sm mb-1";
  search.placeholder = select.dataset.searchLabel || "";
  search.setAttribute("aria-label", select.dataset.searchLabel || "");
  search.setAttribute("data-testid", "environment-search");
  select.before(search);
  const apply = () => {
    const kind = source && source.selectedOptions[0] ? source.selectedOptions[0].dataset.kind || "" : "";
    const words = search.value.trim().toLowerCase();
    let first = null;
    let shown = 0;
    for (const option of select.options) {
      const show = !option.value || ((!kind || option.dataset.kind === kind)
        && (!words || option.text.toLowerCase().includes(words)));
      option.hidden = !show;
      option.disabled = !show;
      if (show && option.value) {
        shown += 1;
        first = first || option;
      }
    }
    // A choice that no longer fits goes; when one environment is left, it is the choice.
    const chosen = select.selectedOptions[0];
    if (!chosen || chosen.hidden || (!chosen.value && shown === 1)) {
      select.value = first ? first.value : "";
    }
  };
  if (source) {
    source.addEventListener("change", apply);
  }
  search.addEventListener("input", apply);
  apply();
}

document.querySelectorAll("select[data-kind-from]").forEach(environmentListNarrow);

// Tables on a phone (static/css/app.css): every cell carries its column's name, and a table that
// still scrolls inside its box can be reached with the keyboard (axe: scrollable-region-focusable).
function tablesPrepare(root) {
  root.querySelectorAll("table.table").forEach((table) => {
    const headers = [...table.querySelectorAll(":scope > thead > tr:first-child > th")].map((th) => th.textContent.trim());
    table.querySelectorAll(":scope > tbody > tr").forEach((row) => {
      [...row.children].forEach((cell, index) => {
        if (!cell.hasAttribute("data-label") && cell.tagName === "TD" && headers[index] !== undefined) {
          cell.setAttribute("data-label", headers[index]);
        }
      });
    });
  });
  root.querySelectorAll(".table-responsive").forEach((box) => {
    if (!box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
    }
  });
}

tablesPrepare(document);
document.addEventListener("htmx:afterSwap", (event) => tablesPrepare(event.target));
