// Draws the flow's tasks beside the editor, as they are typed.
//
// The CodeMirror editor checks the text itself and announces each answer with
// `flowsite:checked`; until one is seen (a plain textarea), this script asks
// /flows/check/ on its own. Clicking a node asks the editor, through `flowsite:goto`,
// to move its cursor there, or selects the line in a visible textarea.
(() => {
  "use strict";
  const topology = document.getElementById("topology");
  if (!topology) return;
  const CHECK_URL = "/flows/check/";
  const CHECK_DELAY_MS = 400;
  let editorChecks = false;
  let checkTimer = null;
  let checkSequence = 0;

  const textarea = () => document.querySelector("textarea[name=source]");

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch {
      return "";
    }
  }

  function shortType(type) {
    return type.split(".").slice(-2).join(".");
  }

  // An error belongs to a task when it sits on the task's first line, or inside the
  // task (its path starts with `tasks[`) between that line and the next task's.
  function erroneous(tasks, errors) {
    return tasks.map((task, index) => {
      const next = tasks[index + 1];
      return errors.some(
        (error) =>
          error.line === task.line ||
          (String(error.path || "").startsWith("tasks[") &&
            error.line >= task.line &&
            (!next || error.line < next.line)),
      );
    });
  }

  function item(className, content) {
    const li = document.createElement("li");
    li.className = className;
    if (typeof content === "string") {
      const text = document.createElement("span");
      text.textContent = content;
      li.appendChild(text);
    } else {
      li.appendChild(content);
    }
    return li;
  }

  function node(task, hasError) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = hasError ? "topology-node has-error" : "topology-node";
    button.dataset.line = task.line;
    button.dataset.column = task.column;
    const id = document.createElement("span");
    id.className = "topology-id";
    id.textContent = task.id || "(no id)";
    const type = document.createElement("span");
    type.className = "topology-type";
    type.textContent = shortType(task.type);
    button.append(id, type);
    if (hasError) button.title = "This task has an error";
    return button;
  }

  function draw(body) {
    const tasks = body.tasks || [];
    const errors = body.errors || [];
    const unreadable = errors.some((error) => String(error.message).startsWith("Invalid YAML"));
    // Half-typed YAML has no outline: keep the last drawing, dimmed, rather than flicker.
    if (unreadable && tasks.length === 0 && topology.querySelector(".topology-node")) {
      topology.classList.add("stale");
      return;
    }
    topology.classList.remove("stale");
    const list = document.createElement("ol");
    list.className = "topology-flow";
    list.appendChild(item("topology-terminal", "Start"));
    const marks = erroneous(tasks, errors);
    tasks.forEach((task, index) => list.appendChild(item("topology-step", node(task, marks[index]))));
    if (tasks.length === 0) list.appendChild(item("topology-empty meta", "No tasks yet"));
    list.appendChild(item("topology-terminal", "End"));
    const old = topology.querySelector(".topology-flow");
    if (old) old.replaceWith(list);
    else topology.appendChild(list);
  }

  async function check() {
    const source = textarea();
    if (editorChecks || !source) return;
    const sequence = ++checkSequence;
    let body;
    try {
      const response = await fetch(CHECK_URL, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken() },
        body: new URLSearchParams({ source: source.value }),
      });
      if (!response.ok) return;
      body = await response.json();
    } catch {
      return; // offline or server restarting: the next keystroke checks again
    }
    // A slower answer about older text must not overwrite a newer one.
    if (sequence !== checkSequence || editorChecks) return;
    draw(body);
  }

  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, CHECK_DELAY_MS);
  }

  function selectInTextarea(source, line, column) {
    const lines = source.value.split("\n");
    const row = Math.min(Math.max(line, 1), lines.length) - 1;
    const before = lines.slice(0, row).reduce((sum, text) => sum + text.length + 1, 0);
    const start = before + Math.min(Math.max(column - 1, 0), lines[row].length);
    source.focus();
    source.setSelectionRange(start, before + lines[row].length);
    const lineHeight = parseFloat(getComputedStyle(source).lineHeight) || 18;
    source.scrollTop = Math.max(0, (row - 3) * lineHeight);
  }

  topology.addEventListener("click", (event) => {
    const button = event.target.closest(".topology-node");
    if (!button) return;
    const line = Number(button.dataset.line);
    const column = Number(button.dataset.column);
    document.dispatchEvent(new CustomEvent("flowsite:goto", { detail: { line, column } }));
    // The CodeMirror editor hides the textarea it replaces; a visible one is the editor.
    const source = textarea();
    if (source && !source.hidden) selectInTextarea(source, line, column);
  });

  document.addEventListener("flowsite:checked", (event) => {
    editorChecks = true;
    clearTimeout(checkTimer);
    draw(event.detail || {});
  });

  document.addEventListener("input", (event) => {
    if (event.target.matches && event.target.matches("textarea[name=source]")) scheduleCheck();
  });

  // The editor form swaps itself after a save: the text may have changed under us.
  document.addEventListener("htmx:afterSwap", scheduleCheck);

  check();
})();
