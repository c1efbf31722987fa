// Follows an execution: log lines arrive over a websocket; on a dropped connection it
// reconnects asking only for lines after the last one it has, so none is lost or doubled.
// The socket sends only the last lines of a long log: the log view reads the others when
// the reader scrolls to them.
// Clicking a task run (a Gantt row or a topology node) shows only its logs, and one
// attempt's when a Gantt segment or an attempt button is chosen.
// While the run goes on, durations tick and the Gantt's scale stretches to now, from the
// instants the server wrote in data- attributes; each refresh of the fragment brings the
// server's own values, which win. A file's preview is fetched when it is first opened.
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

  // ---- Durations and bars that move while the run goes on --------------------------
  // Written as executions/presentation.py and flowsite/values.py write them.
  const MIN_SEGMENT_PERCENT = 0.4;
  const AXIS_MARKS = 6;
  const AXIS_STEPS = [];
  for (let e = -3; e <= 0; e++) for (const m of [1, 2, 5]) AXIS_STEPS.push(m * 10 ** e);
  AXIS_STEPS.push(10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800);

  function formatDuration(seconds) {
    seconds = Math.max(seconds, 0);
    if (seconds < 0.9995) return `${Math.round(seconds * 1000)} ms`;
    if (seconds < 9.995) return `${seconds.toFixed(2)} s`;
    if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
    const whole = Math.round(seconds);
    if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
    return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")} min`;
  }

  const significant = (value) => String(Number(value.toPrecision(4)));

  function axisLabel(value, seconds) {
    if (seconds < 2) return `${significant(value * 1000)} ms`;
    if (seconds < 120) return `${significant(value)} s`;
    if (seconds < 7200) return `${significant(value / 60)} min`;
    return `${significant(value / 3600)} h`;
  }

  function axisTicks(seconds) {
    seconds = Math.max(seconds, 0.001);
    const step = AXIS_STEPS.find((s) => seconds / s <= AXIS_MARKS - 1) || AXIS_STEPS[AXIS_STEPS.length - 1];
    const count = Math.floor(seconds / step + 1e-9);
    const ticks = [];
    for (let i = 0; i <= count; i++) ticks.push([(i * step) / seconds * 100, axisLabel(i * step, seconds)]);
    return ticks;
  }

  // The server's clock, as read from the fragment it last sent: the page counts on it.
  let skew = 0;
  let skewFrom = null;
  function clockNow(gantt) {
    if (gantt && gantt !== skewFrom && gantt.dataset.now) {
      skewFrom = gantt;
      skew = Number(gantt.dataset.now) - Date.now();
    }
    return Date.now() + skew;
  }

  const clamp = (percent) => Math.min(Math.max(percent, 0), 100);

  function drawAxis(gantt, seconds) {
    const scale = gantt.querySelector(".gantt-scale");
    if (!scale) return;
    const ticks = axisTicks(seconds);
    const labels = ticks.map(([, label]) => label).join("|");
    if (scale.dataset.drawn === labels && scale.children.length === ticks.length) {
      ticks.forEach(([percent], i) => {
        scale.children[i].style.left = `${percent.toFixed(3)}%`;
        scale.children[i].classList.toggle("end", percent > 92);
      });
      return;
    }
    scale.dataset.drawn = labels;
    scale.replaceChildren(...ticks.map(([percent, label]) => {
      const span = document.createElement("span");
      span.style.left = `${percent.toFixed(3)}%`;
      span.classList.toggle("end", percent > 92);
      span.textContent = label;
      return span;
    }));
  }

  let ticker = null;

  function tick() {
    const gantt = document.querySelector("#task-runs table.gantt");
    const now = clockNow(gantt);
    const ticking = document.querySelectorAll("#task-runs [data-ticking][data-since]");
    ticking.forEach((el) => { el.textContent = formatDuration((now - Number(el.dataset.since)) / 1000); });
    const live = gantt && gantt.hasAttribute("data-live") && gantt.dataset.scaleStart;
    if (live) {
      const start = Number(gantt.dataset.scaleStart);
      const total = Math.max(Number(gantt.dataset.scaleSeconds) * 1000, now - start, 1);
      gantt.querySelectorAll(".gantt-track [data-start]").forEach((bar) => {
        const begin = Number(bar.dataset.start);
        const end = bar.dataset.end ? Number(bar.dataset.end) : now;
        const left = clamp(((begin - start) / total) * 100);
        const right = clamp(((end - start) / total) * 100);
        bar.style.left = `${left.toFixed(3)}%`;
        bar.style.width = `${Math.max(right - left, MIN_SEGMENT_PERCENT).toFixed(3)}%`;
      });
      drawAxis(gantt, total / 1000);
    }
    if (!live && !ticking.length) {  // the run has ended: nothing moves until a refresh
      clearInterval(ticker);
      ticker = null;
    }
  }

  function startTicking() {
    if (ticker === null) ticker = setInterval(tick, 200);
  }

  // ---- File previews, fetched when first opened --------------------------------------
  function loadPreview(details) {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = "true";
    const body = details.querySelector(".file-preview-body");
    fetch(details.dataset.preview, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then((response) => response.text().then((text) => {
        if (response.ok) body.innerHTML = text;
        else body.textContent = `cannot preview: ${text.slice(0, 300) || response.status}`;
      }))
      .catch(() => {
        delete details.dataset.loaded;
        body.textContent = "cannot preview: the server did not answer";
      });
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
    } else if (event.target.closest("[data-remove-label]")) {
      event.target.closest(".label-row").remove();
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
    if (details.matches && details.matches("details[data-preview]")) loadPreview(details);
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

  // What is open now is kept: a toggle event still queued when the fragment is replaced
  // never arrives, so the map alone could miss the latest click.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.target.id !== "task-runs") return;
    event.target.querySelectorAll("details[data-output]").forEach((details) => {
      if (details.open || toggled.has(details.dataset.output)) toggled.set(details.dataset.output, details.open);
    });
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    markSelection();
    restoreOutputs();
    tick();
    startTicking();
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

  tick();
  startTicking();
  connect();
})();
