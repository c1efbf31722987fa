// Follows an execution: log lines arrive over a websocket; on a dropped connection it
// reconnects asking only for lines after the last one it has, so none is lost or doubled.
// Clicking a task run (a Gantt row or a topology node) shows only its logs, and one
// attempt's when a Gantt segment or an attempt button is chosen.
(() => {
  "use strict";
  const logs = document.getElementById("logs");
  if (!logs) return;
  const status = document.getElementById("live-status");
  const taskRuns = () => document.getElementById("task-runs");
  let lastId = 0;
  let ended = false;
  let retry = 250;
  let lastState = null;
  // The log filter: a task run's id, and an attempt number ("" for all its attempts).
  const selection = { taskRun: "", attempt: "", label: "", attempts: 0 };
  const filterBar = document.getElementById("log-filter");
  // Outputs the reader opened or closed, kept across the fragment's refreshes.
  const toggled = new Map();

  const COLORS = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];

  // Renders ANSI SGR colour codes as spans, safely: text is only ever set as textContent.
  function appendAnsi(parent, text) {
    const parts = text.split(/\x1b\[([0-9;]*)m/);
    let classes = [];
    parts.forEach((part, i) => {
      if (i % 2 === 1) {
        for (const code of (part || "0").split(";").map(Number)) {
          if (code === 0) classes = [];
          else if (code === 1) classes.push("ansi-bold");
          else if (code >= 30 && code <= 37) classes = classes.filter((c) => !c.startsWith("ansi-fg")).concat(`ansi-fg-${COLORS[code - 30]}`);
          else if (code >= 90 && code <= 97) classes = classes.filter((c) => !c.startsWith("ansi-fg")).concat(`ansi-fg-${COLORS[code - 90]}`);
          else if (code === 39) classes = classes.filter((c) => !c.startsWith("ansi-fg"));
        }
      } else if (part) {
        const span = document.createElement("span");
        if (classes.length) span.className = classes.join(" ");
        span.textContent = part;
        parent.appendChild(span);
      }
    });
  }

  function addLines(lines) {
    const stick = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 20;
    const fragment = document.createDocumentFragment();
    for (const line of lines) {
      if (line.id <= lastId) continue;
      lastId = line.id;
      const row = document.createElement("div");
      row.className = `line stream-${line.stream} level-${line.level}`;
      row.dataset.id = line.id;
      row.dataset.taskRun = line.taskRunId || "";
      row.dataset.attempt = String(line.attempt || "");
      row.hidden = !shown(row);
      const meta = document.createElement("span");
      meta.className = "line-meta";
      meta.textContent = `${line.timestamp.slice(11, 23)} ${line.taskId || ""} `;
      row.appendChild(meta);
      appendAnsi(row, line.message);
      fragment.appendChild(row);
    }
    logs.appendChild(fragment);
    if (stick) logs.scrollTop = logs.scrollHeight;
  }

  function shown(row) {
    if (!selection.taskRun) return true;
    if (row.dataset.taskRun !== selection.taskRun) return false;
    return !selection.attempt || row.dataset.attempt === selection.attempt;
  }

  function attemptButton(number, text) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.filterAttempt = number;
    button.textContent = text;
    button.setAttribute("aria-pressed", String(selection.attempt === number));
    return button;
  }

  function drawFilterBar() {
    if (!filterBar) return;
    filterBar.hidden = !selection.taskRun;
    filterBar.querySelector(".log-filter-task").textContent = selection.label;
    const attempts = filterBar.querySelector(".log-filter-attempts");
    attempts.replaceChildren();
    if (selection.attempts > 1) {
      attempts.append(attemptButton("", "All attempts"));
      for (let number = 1; number <= selection.attempts; number++) {
        attempts.append(attemptButton(String(number), `Attempt ${number}`));
      }
    }
  }

  // Marks the chosen run and attempt again after each refresh of the fragment.
  function markSelection() {
    document.querySelectorAll("#task-runs .selected").forEach((el) => el.classList.remove("selected"));
    if (!selection.taskRun) return;
    document.querySelectorAll(`#task-runs [data-task-run="${CSS.escape(selection.taskRun)}"]`).forEach((el) => {
      el.classList.add("selected");
      if (!selection.attempt) return;
      el.querySelectorAll(`[data-attempt="${CSS.escape(selection.attempt)}"]`).forEach((s) => s.classList.add("selected"));
    });
  }

  function select(taskRun, attempt, source) {
    selection.taskRun = taskRun;
    selection.attempt = attempt;
    selection.label = source ? source.dataset.label || "" : "";
    selection.attempts = source ? Number(source.dataset.attempts || 0) : 0;
    for (const row of logs.children) row.hidden = !shown(row);
    drawFilterBar();
    markSelection();
  }

  function restoreOutputs() {
    for (const [key, open] of toggled) {
      const details = document.querySelector(`#task-runs details[data-output="${CSS.escape(key)}"]`);
      if (details) details.open = open;
    }
  }

  document.addEventListener("click", (event) => {
    const source = event.target.closest("#task-runs [data-task-run]");
    if (source && !event.target.closest("a, button")) {
      const segment = event.target.closest("[data-attempt]");
      select(source.dataset.taskRun, segment ? segment.dataset.attempt : "", source);
      return;
    }
    const attempt = event.target.closest("[data-filter-attempt]");
    if (attempt) {
      selection.attempt = attempt.dataset.filterAttempt;
      for (const row of logs.children) row.hidden = !shown(row);
      drawFilterBar();
      markSelection();
    } else if (event.target.closest("[data-show-all-logs]")) {
      select("", "", null);
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    const source = event.target.closest && event.target.closest("#task-runs [data-task-run]");
    if (!source || event.target !== source) return;
    event.preventDefault();
    select(source.dataset.taskRun, "", source);
  });

  // `toggle` does not bubble: listen while it travels down.
  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (details.matches && details.matches("details[data-output]")) toggled.set(details.dataset.output, details.open);
  }, true);

  // htmx drops a trigger that comes while the fragment's request is in flight: the
  // answer to that request may predate the change, and the page would stay stale. One
  // refresh at a time, then one more if anything asked meanwhile.
  let refreshing = false;
  let refreshAgain = false;
  let refreshGuard = null;

  function refresh() {
    if (!window.htmx || !taskRuns()) return;
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    clearTimeout(refreshGuard);
    refreshGuard = setTimeout(refreshed, 10000); // an answer lost on the way
    htmx.trigger(taskRuns(), "refresh");
  }

  function refreshed() {
    clearTimeout(refreshGuard);
    refreshing = false;
    if (refreshAgain) {
      refreshAgain = false;
      refresh();
    }
  }

  document.addEventListener("htmx:afterSettle", (event) => {
    markSelection();
    restoreOutputs();
    if (event.target.id === "task-runs") refreshed();
  });

  // A refused or failed request swaps nothing: the fragment is still there to hear it.
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.target.id === "task-runs" && !event.detail.successful) refreshed();
  });

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${logs.dataset.ws}?after=${lastId}`);
    socket.onopen = () => { retry = 250; status.textContent = "live"; };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "logs") addLines(message.lines);
      else if (message.type === "state") {
        // The first message is compared with nothing: the page may have been rendered
        // before a change that happened while the socket was connecting, so it refreshes.
        const signature = JSON.stringify([message.state, message.taskRuns]);
        if (signature !== lastState) refresh();
        lastState = signature;
      } else if (message.type === "end") {
        ended = true;
        status.textContent = "finished";
        refresh();
        socket.close();
      }
    };
    socket.onclose = () => {
      if (ended) return;
      status.textContent = "reconnecting…";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 5000);
    };
  }

  connect();
})();
