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

  // Every task of the outline, nested ones included, parents before their children.
  function everyTask(tasks, into = []) {
    for (const task of tasks) {
      into.push(task);
      for (const branch of task.branches || []) everyTask(branch.tasks || [], into);
    }
    return into;
  }

  function isWithin(path, taskPath) {
    return path === taskPath || path.startsWith(taskPath + ".") || path.startsWith(taskPath + "[");
  }

  // An error belongs to the innermost task its path lies in (`tasks[0].then[1].type`
  // belongs to the If's second `then` task), or else to the task starting on its line.
  function erroneous(tasks, errors) {
    const marked = new Set();
    for (const error of errors) {
      const path = String(error.path || "");
      let owner = null;
      for (const task of tasks) {
        if (path && task.path && isWithin(path, task.path)) {
          if (!owner || task.path.length > owner.path.length) owner = task;
        }
      }
      owner = owner || tasks.find((task) => task.line === error.line);
      if (owner) marked.add(owner);
    }
    return marked;
  }

  function element(tag, className, text) {
    const made = document.createElement(tag);
    made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  }

  function item(className, content) {
    const li = element("li", className);
    li.appendChild(typeof content === "string" ? element("span", "", content) : content);
    return li;
  }

  function node(task, hasError) {
    const button = element("button", hasError ? "topology-node has-error" : "topology-node");
    button.type = "button";
    button.dataset.line = task.line;
    button.dataset.column = task.column;
    button.append(
      element("span", "topology-id", task.id || "(no id)"),
      element("span", "topology-type", shortType(task.type)),
    );
    if (hasError) button.title = "This task has an error";
    return button;
  }

  // Tasks one under the other, with an arrow between each.
  function flowList(tasks, marks) {
    const list = element("ol", "topology-flow");
    for (const task of tasks) list.appendChild(item("topology-step", step(task, marks)));
    if (tasks.length === 0) list.appendChild(item("topology-empty meta", "No tasks"));
    return list;
  }

  // A flowable task is a box holding its node and its children.
  function step(task, marks) {
    const own = node(task, marks.has(task));
    if (!task.branches) return own;
    const group = element("div", "topology-group");
    group.dataset.task = task.id;
    group.append(own, branches(task, marks));
    return group;
  }

  function column(label, content) {
    const branch = element("div", "topology-branch");
    if (label) branch.appendChild(element("span", "topology-branch-label", label));
    branch.appendChild(content);
    return branch;
  }

  // If and Switch: each branch in a column. Parallel: each task in a column.
  // Sequential and ForEach: the children stacked. A plain `tasks` list needs no label.
  function branches(task, marks) {
    const container = element("div", "topology-branches");
    const label = (branch) => (branch.label === "tasks" ? "" : branch.label);
    if (task.layout === "branches-side-by-side") {
      container.classList.add("side-by-side");
      for (const branch of task.branches) {
        container.appendChild(column(label(branch), flowList(branch.tasks || [], marks)));
      }
      return container;
    }
    for (const branch of task.branches) {
      const tasks = branch.tasks || [];
      let content = flowList(tasks, marks);
      if (task.layout === "tasks-side-by-side" && tasks.length > 0) {
        content = element("div", "topology-branches side-by-side");
        for (const child of tasks) content.appendChild(column("", flowList([child], marks)));
      }
      container.appendChild(column(label(branch), content));
    }
    return container;
  }

  // The flow's errors and finally tasks, each a labelled section after the End.
  function section(part, marks) {
    const box = element("section", "topology-section");
    box.dataset.section = part.label;
    box.append(element("h3", "topology-section-label", part.label), flowList(part.tasks || [], marks));
    return box;
  }

  function draw(body) {
    const tasks = body.tasks || [];
    const sections = body.sections || [];
    const errors = body.errors || [];
    const unreadable = errors.some((error) => String(error.message).startsWith("Invalid YAML"));
    // Half-typed YAML has no outline: keep the last drawing, dimmed, rather than flicker.
    if (unreadable && tasks.length === 0 && topology.querySelector(".topology-node")) {
      topology.classList.add("stale");
      return;
    }
    topology.classList.remove("stale");
    const marks = erroneous(
      everyTask(tasks.concat(...sections.map((part) => part.tasks || []))),
      errors,
    );
    const drawing = element("div", "topology-drawing");
    const list = element("ol", "topology-flow");
    list.appendChild(item("topology-terminal", "Start"));
    for (const task of tasks) list.appendChild(item("topology-step", step(task, marks)));
    if (tasks.length === 0) list.appendChild(item("topology-empty meta", "No tasks yet"));
    list.appendChild(item("topology-terminal", "End"));
    drawing.appendChild(list);
    for (const part of sections) drawing.appendChild(section(part, marks));
    const old = topology.querySelector(".topology-drawing");
    if (old) old.replaceWith(drawing);
    else topology.appendChild(drawing);
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
