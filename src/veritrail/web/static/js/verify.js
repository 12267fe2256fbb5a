// The Verify page: refuse a file over its limit before it is sent, with the page's message.
"use strict";

document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.maxBytes) {
    return;
  }
  const limit = Number(input.dataset.maxBytes);
  const file = input.files && input.files[0];
  input.setCustomValidity(file && file.size > limit ? input.dataset.tooLarge || "" : "");
  input.reportValidity();
});
