// The reader's time zone. The server shows times in the zone it was told: the user's
// preference, else the browser's from the flowsite_tz cookie this script keeps, else UTC.
// On the very first page, before the cookie existed, the server's times are re-drawn here
// in the browser's zone (no reload, so nothing can loop). Scripts read the zone from
// document.body.dataset.timeZone, or call FlowsiteTime.format().
window.FlowsiteTime = (() => {
  "use strict";
  const body = document.body;
  let browserZone = "";
  try { browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { /* an old browser: UTC */ }
  const COOKIE = "flowsite_tz";
  const kept = document.cookie.split("; ").find((part) => part.startsWith(`${COOKIE}=`));
  // Zone names are letters, digits and / _ + -: safe in a cookie as they are.
  if (/^[A-Za-z0-9/_+-]+$/.test(browserZone) && (!kept || kept.slice(COOKIE.length + 1) !== browserZone)) {
    document.cookie = `${COOKIE}=${browserZone}; path=/; max-age=31536000; SameSite=Lax`;
  }

  function zone() {
    return (document.body && document.body.dataset.timeZone) || browserZone || "UTC";
  }

  const formats = new Map();
  function formatter(timeZone, milliseconds) {
    const key = `${timeZone} ${milliseconds}`;
    if (!formats.has(key)) {
      formats.set(key, new Intl.DateTimeFormat("en-US", {
        timeZone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
        ...(milliseconds ? { fractionalSecondDigits: 3 } : {}),
      }));
    }
    return formats.get(key);
  }

  // "2026-11-30 09:00:01" (or "...01.234" with milliseconds), whatever the browser's locale.
  function format(date, { milliseconds = false, timeZone = zone() } = {}) {
    const parts = {};
    for (const part of formatter(timeZone, milliseconds).formatToParts(date)) parts[part.type] = part.value;
    const ms = milliseconds ? `.${parts.fractionalSecond}` : "";
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}${ms}`;
  }

  // The zone's short name at that moment: "CET", "EST", else "GMT+9".
  function abbreviation(date, timeZone = zone()) {
    let name = "";
    for (const locale of ["en-US", "en-GB"]) {
      const part = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: "short" })
        .formatToParts(date).find((p) => p.type === "timeZoneName");
      name = part ? part.value : name;
      if (name && !name.startsWith("GMT")) break;
    }
    return timeZone === "UTC" ? "UTC" : name;
  }

  // The `when` filter's <time datetime title><span class="tz">, redrawn in another zone.
  function redraw(root) {
    for (const time of root.querySelectorAll("time[datetime][title]")) {
      const tz = time.querySelector(".tz");
      if (!tz) continue;
      const date = new Date(time.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) continue;
      const minutes = !/\d\d:\d\d:\d\d/.test(time.firstChild ? time.firstChild.textContent : "");
      const shown = format(date);
      time.firstChild.textContent = `${minutes ? shown.slice(0, 16) : shown} `;
      tz.textContent = abbreviation(date);
      time.title = zone();
    }
  }

  if (body && body.dataset.timeZoneSource === "default" && browserZone && browserZone !== body.dataset.timeZone) {
    body.dataset.timeZone = browserZone;
    body.dataset.timeZoneSource = "browser";
    document.addEventListener("DOMContentLoaded", () => redraw(document));
    document.addEventListener("htmx:afterSwap", (event) => redraw(event.target));
  }

  return { zone, format, abbreviation };
})();
