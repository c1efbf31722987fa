// Follows an execution: log lines arrive over a websocket; on a dropped connection it
// reconnects asking only for lines after the last one it has, so none is lost or doubled.
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
        if (signature !== lastState && window.htmx && taskRuns()) {
          htmx.trigger(taskRuns(), "refresh");
        }
        lastState = signature;
      } else if (message.type === "end") {
        ended = true;
        status.textContent = "finished";
        if (window.htmx && taskRuns()) htmx.trigger(taskRuns(), "refresh");
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
