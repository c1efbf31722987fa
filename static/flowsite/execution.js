// Follows an execution: log lines arrive over a websocket; on a dropped connection it
// reconnects asking only for lines after the last one it has, so none is lost or doubled.
// The socket sends only the last lines of a long log: the log view reads the others when
// the reader scrolls to them.
// Clicking a task run (a Gantt row or a topology node) shows only its logs, and one
// attempt's when a Gantt segment or an attempt button is chosen.
(() => {
  "use strict";
  const logs = document.getElementById("logs");
  if (!logs) return;
  const status = document.getElementById("live-status");
  const taskRuns = () => document.getElementById("task-runs");
  let ended = false;
  let retry = 250;
  let lastState = null;
  // The log filter: a task run's id, and an attempt number ("" for all its attempts).
  const selection = { taskRun: "", attempt: "", label: "", attempts: 0 };
  const filterBar = document.getElementById("log-filter");
  // Outputs the reader opened or closed, kept across the fragment's refreshes.
  const toggled = new Map();

  // The log view (logview.js): only the lines on screen are in the page.
  const toolbarElement = document.querySelector(".log-toolbar");
  const view = window.FlowsiteLogView.create(logs, {
    element: toolbarElement,
    level: document.getElementById("log-level"),
    search: document.getElementById("log-search"),
    matches: document.getElementById("log-matches"),
    position: document.getElementById("log-position"),
    download: document.getElementById("log-download"),
    follow: toolbarElement.querySelector('[data-log-jump="end"]'),
  });

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
    view.setTask(taskRun, attempt);
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
      view.setTask(selection.taskRun, selection.attempt);
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
    const socket = new WebSocket(`${scheme}://${location.host}${logs.dataset.ws}?after=${view.lastId}`);
    socket.onopen = () => { retry = 250; status.textContent = "live"; };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "start") view.start(message);
      else if (message.type === "logs") view.add(message.lines);
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
