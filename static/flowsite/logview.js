// The execution page's log view: a window onto what may be millions of lines. Only the
// rows on screen are in the DOM. An empty block as tall as all the lines gives the
// scrollbar its length; the rows in sight are drawn over it, each of one fixed height,
// so that a scroll offset is a line's position. Lines come from two sources: the
// websocket brings the last ones and every new one (execution.js feeds them in), and the
// lines anywhere else are read by position from the server when they come into sight
// (executions/log_page.py). Filters, search and the download link ask the server too.
window.FlowsiteLogView = (() => {
  "use strict";
  const ROW = 18; // px, a row's height (flowsite.css: .logs .line)
  const CHUNK = 200; // lines per range request
  const OVERSCAN = 10; // rows drawn above and below the screen, for a smooth scroll
  const KEEP = 5000; // lines kept in memory around the screen
  const RECENT = 5000; // lines kept from the websocket, for a view being reloaded
  // Browsers cap an element's height (Chromium at 2^25 px): past this height the
  // scrollbar is scaled, a pixel of it standing for more than a pixel of lines.
  const MAX_HEIGHT = 8_000_000;
  const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];
  const COLORS = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];
  // Each line's date and time in the reader's zone (time.js): "2026-11-30 09:00:01.234".
  const ZONE = window.FlowsiteTime.zone();
  const shownTime = (timestamp) => window.FlowsiteTime.format(new Date(timestamp), { milliseconds: true, timeZone: ZONE });

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

  function create(container, toolbar) {
    const height = container.querySelector(".logs-height");
    const rows = container.querySelector(".logs-rows");
    const base = container.dataset.base;
    const filter = { level: "", taskRun: "", attempt: "" };
    // The view: its lines up to the id `until`, `total` of them, read by position.
    const view = { generation: 0, total: 0, until: 0, ready: false, started: false };
    const cache = new Map(); // position -> line
    const pending = new Set(); // chunks asked for
    const recent = []; // the last lines from the websocket
    const search = { query: "", ids: [], found: new Set(), index: -1, more: false, generation: 0 };
    let liveLastId = 0;
    let following = true;
    let drawing = false;
    let current = null; // the id of the match in focus

    const query = (extra) => {
      const params = new URLSearchParams();
      if (filter.level) params.set("level", filter.level);
      if (filter.taskRun) params.set("taskRunId", filter.taskRun);
      if (filter.attempt) params.set("attempt", filter.attempt);
      params.set("until", view.until);
      for (const [key, value] of Object.entries(extra || {})) params.set(key, value);
      return params;
    };
    const read = (what, extra) => fetch(`${base}${what}?${query(extra)}`, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(response.statusText))));
    const matches = (line) => (!filter.level || LEVELS.indexOf(line.level) >= LEVELS.indexOf(filter.level))
      && (!filter.taskRun || line.taskRunId === filter.taskRun)
      && (!filter.attempt || String(line.attempt) === filter.attempt);

    // Scroll geometry: `scale` lines' pixels per scrollbar pixel (1 unless huge).
    function scale() {
      const full = view.total * ROW;
      const room = container.clientHeight;
      return full <= MAX_HEIGHT ? 1 : (full - room) / (MAX_HEIGHT - room);
    }
    function firstShown() {
      return Math.floor((container.scrollTop * scale()) / ROW);
    }
    function scrollToPosition(position, centred) {
      const top = position * ROW - (centred ? container.clientHeight / 2 - ROW : 0);
      container.scrollTop = Math.max(0, top) / scale();
    }
    const atEnd = () => container.scrollTop + container.clientHeight >= container.scrollHeight - ROW;

    function schedule() {
      if (drawing) return;
      drawing = true;
      requestAnimationFrame(draw);
    }

    function draw() {
      drawing = false;
      height.style.height = `${Math.min(view.total * ROW, MAX_HEIGHT)}px`;
      if (following) container.scrollTop = container.scrollHeight;
      const virtualTop = container.scrollTop * scale();
      const first = Math.max(0, Math.floor(virtualTop / ROW) - OVERSCAN);
      const last = Math.min(view.total, Math.ceil((virtualTop + container.clientHeight) / ROW) + OVERSCAN);
      rows.style.top = `${container.scrollTop - (virtualTop - first * ROW)}px`;
      const drawn = [];
      for (let position = first; position < last; position++) drawn.push(row(cache.get(position)));
      rows.replaceChildren(...drawn);
      if (view.ready) fetchMissing(first, last);
      status(Math.floor(virtualTop / ROW), Math.ceil((virtualTop + container.clientHeight) / ROW));
    }

    function row(line) {
      const element = document.createElement("div");
      if (!line) {
        element.className = "line-pending";
        element.textContent = "…";
        return element;
      }
      element.className = `line stream-${line.stream} level-${line.level}`;
      if (search.found.has(line.id)) element.classList.add(line.id === current ? "current-match" : "match");
      element.dataset.id = line.id;
      const meta = document.createElement("span");
      meta.className = "line-meta";
      line.shownTime ??= shownTime(line.timestamp);
      meta.textContent = `${line.shownTime} ${line.taskId || ""} `;
      element.appendChild(meta);
      appendAnsi(element, line.message.replace(/\n/g, " ⏎ "));
      return element;
    }

    function status(from, to) {
      const text = view.total
        ? `lines ${(Math.min(from, view.total - 1) + 1).toLocaleString()}–${Math.max(Math.min(to, view.total), 1).toLocaleString()} of ${view.total.toLocaleString()}`
        : "no lines";
      toolbar.position.textContent = `${text} · times in ${ZONE}`;
      toolbar.follow.setAttribute("aria-pressed", String(following));
    }

    // Reads the chunks of [from, to) not in memory, each once at a time.
    function fetchMissing(from, to) {
      for (let chunk = Math.floor(from / CHUNK); chunk * CHUNK < to; chunk++) {
        const start = chunk * CHUNK;
        const end = Math.min(start + CHUNK, view.total);
        let missing = false;
        for (let position = Math.max(start, from); position < Math.min(end, to) && !missing; position++) missing = !cache.has(position);
        if (!missing || pending.has(chunk)) continue;
        pending.add(chunk);
        const generation = view.generation;
        read("lines", { from: start, count: end - start, total: view.total }).then((answer) => {
          if (generation !== view.generation) return;
          answer.lines.forEach((line, i) => cache.set(start + i, line));
          pending.delete(chunk);
          forgetFar();
          schedule();
        }).catch(() => pending.delete(chunk));
      }
    }

    // Drops what lies far from the screen: memory stays bounded whatever the run's size.
    function forgetFar() {
      if (cache.size <= 2 * KEEP) return;
      const here = firstShown();
      for (const position of cache.keys()) if (Math.abs(position - here) > KEEP) cache.delete(position);
    }

    // A line is added to the view when it passes its filters; positions stay put.
    function append(line) {
      if (line.id <= view.until) return;
      view.until = line.id;
      if (matches(line)) cache.set(view.total++, line);
    }

    // Counts the view again (its filters changed, or lines were missed): the lines that
    // come meanwhile wait in `recent`, and are added once the count is known.
    function reload() {
      const generation = ++view.generation;
      view.ready = false;
      view.until = liveLastId;
      cache.clear();
      pending.clear();
      schedule(); // rows waiting for their lines, until the count comes
      read("count").then((answer) => {
        if (generation !== view.generation) return;
        view.total = answer.count;
        view.ready = true;
        // So many lines came meanwhile that some left `recent` uncounted: count again.
        if (recent.length === RECENT && recent[0].id > view.until) return reload();
        for (const line of recent) append(line);
        if (!following) container.scrollTop = 0;
        schedule();
        if (search.query) runSearch();
      });
      drawDownload();
    }

    function drawDownload() {
      // The API's names: minLevel, and attempts counted from 0 as Kestra does.
      const params = new URLSearchParams();
      if (filter.level) params.set("minLevel", filter.level);
      if (filter.taskRun) params.set("taskRunId", filter.taskRun);
      if (filter.attempt) params.set("attempt", String(Number(filter.attempt) - 1));
      toolbar.download.href = `${base}download${params.size ? `?${params}` : ""}`;
    }

    function runSearch() {
      const generation = ++search.generation;
      search.ids = [];
      search.found = new Set();
      search.index = -1;
      current = null;
      if (!search.query) {
        toolbar.matches.textContent = "";
        schedule();
        return;
      }
      toolbar.matches.textContent = "searching…";
      read("search", { q: search.query }).then((answer) => {
        if (generation !== search.generation) return;
        search.ids = answer.ids;
        search.found = new Set(answer.ids);
        search.more = answer.more;
        if (search.ids.length) step(1);
        else toolbar.matches.textContent = "no match";
      });
    }

    // Brings the next (1) or previous (-1) match into the middle of the screen.
    function step(direction) {
      if (!search.ids.length) return;
      search.index = (search.index + direction + search.ids.length) % search.ids.length;
      current = search.ids[search.index];
      const generation = search.generation;
      toolbar.matches.textContent = `${search.index + 1} of ${search.ids.length}${search.more ? "+" : ""}`;
      read("position", { id: current }).then((answer) => {
        if (generation !== search.generation) return;
        following = false;
        scrollToPosition(answer.position, true);
        schedule();
      });
    }

    container.addEventListener("scroll", () => {
      following = atEnd();
      schedule();
    }, { passive: true });
    // A reader scrolling up stops the follow at once, before new lines pull the view down.
    container.addEventListener("wheel", (event) => {
      if (event.deltaY < 0 && container.scrollHeight > container.clientHeight) following = false;
    }, { passive: true });
    window.addEventListener("resize", schedule);
    toolbar.level.addEventListener("change", () => {
      filter.level = toolbar.level.value;
      reload();
    });
    let typing = null;
    toolbar.search.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => { search.query = toolbar.search.value.trim(); runSearch(); }, 250);
    });
    toolbar.search.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      if (toolbar.search.value.trim() !== search.query) {
        clearTimeout(typing);
        search.query = toolbar.search.value.trim();
        runSearch();
      } else step(event.shiftKey ? -1 : 1);
    });
    toolbar.element.addEventListener("click", (event) => {
      const jump = event.target.closest("[data-log-jump]");
      const move = event.target.closest("[data-log-match]");
      if (jump && jump.dataset.logJump === "start") {
        following = false;
        container.scrollTop = 0;
      } else if (jump) {
        following = true;
        schedule();
      } else if (move) step(Number(move.dataset.logMatch));
    });
    drawDownload();
    schedule();

    return {
      // The websocket's first message: `total` lines up to the id `lastId`, its
      // backlog after it. A reconnection may have skipped lines: the view reads them.
      start(message) {
        if (view.started && message.lastId === liveLastId) return;
        liveLastId = Math.max(liveLastId, message.lastId);
        if (!view.started && !filter.level && !filter.taskRun) {
          view.total = message.total;
          view.until = message.lastId;
          view.ready = true;
          view.started = true;
          schedule();
        } else {
          view.started = true;
          reload();
        }
      },
      add(lines) {
        for (const line of lines) {
          if (line.id <= liveLastId) continue;
          liveLastId = line.id;
          recent.push(line);
          if (view.ready) append(line);
        }
        if (recent.length > RECENT) recent.splice(0, recent.length - RECENT);
        schedule();
      },
      get lastId() { return liveLastId; },
      // Shows only one task run's lines, and one attempt's ("" for all).
      setTask(taskRun, attempt) {
        if (filter.taskRun === taskRun && filter.attempt === attempt) return;
        filter.taskRun = taskRun;
        filter.attempt = attempt;
        reload();
      },
    };
  }

  return { create };
})();
