// Copy buttons: any element with data-copy="text" (or data-copy-target="#id", whose value
// or text is copied) copies on click and says "Copied" for a moment. Delegated from the
// document, so buttons that htmx swaps in work too. navigator.clipboard needs a secure
// context (https or localhost); elsewhere a hidden textarea is selected and copied.
(() => {
  "use strict";

  function fallbackCopy(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let done = false;
    try { done = document.execCommand("copy"); } finally { area.remove(); }
    if (!done) throw new Error("copy refused");
  }

  async function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try { await navigator.clipboard.writeText(text); return; } catch (error) { /* fall back */ }
    }
    fallbackCopy(text);
  }

  function textOf(element) {
    if (element.dataset.copy !== undefined) return element.dataset.copy;
    const target = document.querySelector(element.dataset.copyTarget);
    if (!target) return "";
    return "value" in target && target.value !== undefined ? target.value : target.textContent.trim();
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy], [data-copy-target]");
    if (!button) return;
    event.preventDefault();
    const label = button.dataset.copyLabel ?? button.textContent;
    button.dataset.copyLabel = label;
    let said;
    try {
      await copy(textOf(button));
      said = "Copied";
      button.classList.add("copied");
    } catch (error) {
      said = "Press Ctrl+C";
    }
    button.textContent = said;
    button.setAttribute("aria-live", "polite");
    clearTimeout(button.copyTimer);
    button.copyTimer = setTimeout(() => {
      button.textContent = button.dataset.copyLabel;
      button.classList.remove("copied");
    }, 1500);
  });
})();
