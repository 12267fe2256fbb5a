// Small behaviours of the Veritrail pages; no inline scripts (the CSP forbids them).
"use strict";

// Selects marked data-autosubmit submit their form when changed (language, period).
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit")) {
    target.form.requestSubmit();
  }
});

// Remove a row of an editable table.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-remove-row]") : null;
  if (!button) {
    return;
  }
  event.preventDefault();
  const row = button.closest("tr");
  const body = row ? row.parentElement : null;
  if (!row || !body) {
    return;
  }
  const next = row.nextElementSibling || row.previousElementSibling;
  row.remove();
  const focusable = next ? next.querySelector("input, select, textarea") : null;
  if (focusable) {
    focusable.focus();
  }
});

// A row added by htmx gets the focus on its first input.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail && event.detail.target;
  if (target instanceof HTMLElement && target.tagName === "TBODY") {
    const row = target.lastElementChild;
    const input = row ? row.querySelector("input, select, textarea") : null;
    if (input) {
      input.focus();
    }
  }
});

// Bring the error summary into view so that the user sees what to correct first.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
});
