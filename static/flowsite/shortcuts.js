// Keyboard shortcuts, listed by "?" in a dialog. Single keys never fire while the reader
// types (inputs, textareas, selects, the YAML editor); Ctrl/Cmd combinations do.
(() => {
  "use strict";
  const SHORTCUTS = [
    ["?", "Show this list"],
    ["/", "Search on this page"],
    ["g d", "Go to the dashboard"],
    ["g f", "Go to the flows"],
    ["g e", "Go to the executions"],
    ["Ctrl/⌘ S", "Save the flow (flow page)"],
    ["Ctrl/⌘ Enter or r", "Run the flow (flow page)"],
    ["Esc", "Close a dialog, leave a search box"],
  ];
  const PLACES = { d: "/", f: "/flows/", e: "/executions/" };
  const SEARCH = "[data-shortcut-search], input[type=search], main form.filters input:not([type]), main form.filters input[type=text]";
  let pendingG = 0;

  function typing(target) {
    if (!(target instanceof Element)) return false;
    return target.isContentEditable || target.closest("input, textarea, select, [contenteditable], .cm-editor") !== null;
  }

  function visible(element) {
    return element && !element.disabled && element.getClientRects().length > 0;
  }

  let help = null;
  function openHelp() {
    if (!help) {
      help = document.createElement("dialog");
      help.className = "shortcuts-help";
      help.setAttribute("aria-labelledby", "shortcuts-title");
      const title = document.createElement("h2");
      title.id = "shortcuts-title";
      title.textContent = "Keyboard shortcuts";
      const list = document.createElement("dl");
      for (const [keys, what] of SHORTCUTS) {
        const term = document.createElement("dt");
        for (const [index, key] of keys.split(" ").entries()) {
          if (index) term.append(" ");
          const kbd = document.createElement(key === "or" ? "span" : "kbd");
          kbd.textContent = key;
          term.append(kbd);
        }
        const description = document.createElement("dd");
        description.textContent = what;
        list.append(term, description);
      }
      const close = document.createElement("button");
      close.type = "button";
      close.textContent = "Close";
      close.addEventListener("click", () => help.close());
      help.append(title, list, close);
      document.body.append(help);
    }
    if (!help.open) help.showModal();
  }

  function runButton() {
    return document.querySelector("[data-shortcut-run]");
  }

  document.addEventListener("keydown", (event) => {
    const mod = event.ctrlKey || event.metaKey;
    if (mod && !event.altKey && (event.key === "s" || event.key === "S")) {
      const editor = document.querySelector("form#editor");
      if (!editor) return;
      event.preventDefault();
      // The YAML editor saves itself on Mod-s; everywhere else on the page saves it too.
      if (!event.target.closest || !event.target.closest(".cm-editor")) {
        if (!editor.querySelector("textarea[readonly]")) editor.requestSubmit();
      }
      return;
    }
    if (mod && event.key === "Enter" && visible(runButton())) {
      event.preventDefault();
      runButton().click();
      return;
    }
    if (mod || event.altKey || event.defaultPrevented) return;
    if (event.key === "Escape" && typing(event.target) && event.target.matches(SEARCH)) {
      event.target.blur();
      return;
    }
    if (typing(event.target) || document.querySelector("dialog[open]:not(.shortcuts-help)")) return;
    if (pendingG && Date.now() - pendingG < 1500 && PLACES[event.key]) {
      pendingG = 0;
      event.preventDefault();
      window.location.assign(PLACES[event.key]);
      return;
    }
    pendingG = 0;
    if (event.key === "?") {
      event.preventDefault();
      openHelp();
    } else if (event.key === "/") {
      const search = [...document.querySelectorAll(SEARCH)].find(visible);
      if (search) {
        event.preventDefault();
        search.focus();
        if (search.select) search.select();
      }
    } else if (event.key === "g") {
      pendingG = Date.now();
    } else if (event.key === "r" && visible(runButton())) {
      event.preventDefault();
      runButton().click();
    }
  });
})();
