// The flow YAML editor: CodeMirror 6 mounted over `textarea[data-flow-editor]`.
//
// Progressive enhancement: the textarea stays in the form, hidden, and holds the text
// on every change, so the form (htmx or plain) posts exactly what it posted before.
// Build with `npm run build`; the bundle in static/editor/ is committed.

import { basicSetup } from "codemirror";
import { EditorView, keymap, hoverTooltip } from "@codemirror/view";
import { EditorState, EditorSelection } from "@codemirror/state";
import { indentUnit } from "@codemirror/language";
import { indentWithTab } from "@codemirror/commands";
import { yaml, yamlLanguage } from "@codemirror/lang-yaml";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { yamlCompletion, yamlSchemaHover } from "codemirror-json-schema/yaml";
import { stateExtensions, updateSchema } from "codemirror-json-schema";
import { typeCompletion } from "./type-completion.js";

const SCHEMA_URL = "/api/v1/plugins/schemas/flow";
const CHECK_URL = "/flows/check/";
const CHECK_DELAY_MS = 400;

let schemaPromise = null; // fetched once per page, shared by every re-mount
let current = null; // {view, textarea, form}
let dirty = false;
let postedSource = null;
let checkTimer = null;
let checkSequence = 0;

function flowSchema() {
  if (!schemaPromise) {
    schemaPromise = fetch(SCHEMA_URL, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : undefined))
      .catch(() => undefined);
  }
  return schemaPromise;
}

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch {
    return "";
  }
}

// Server positions are 1-based lines and columns; CodeMirror wants offsets.
function offsetOf(doc, line, column) {
  const target = doc.line(Math.min(Math.max(line || 1, 1), doc.lines));
  return Math.min(target.from + Math.max((column || 1) - 1, 0), target.to);
}

function moveCursor(line, column) {
  if (!current) return;
  const { view } = current;
  const pos = offsetOf(view.state.doc, line, column);
  view.dispatch({ selection: EditorSelection.cursor(pos), scrollIntoView: true });
  view.focus();
}

function diagnosticsFor(doc, errors) {
  return errors.map((error) => {
    const from = offsetOf(doc, error.line, error.column);
    const to = doc.lineAt(from).to;
    return { from, to: Math.max(to, from), severity: "error", message: error.message };
  });
}

function showProblems(errors) {
  const list = document.getElementById("problems");
  if (!list) return;
  list.replaceChildren(
    ...errors.map((error) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      const where = error.line ? `Line ${error.line}, column ${error.column}: ` : "";
      button.textContent = where + error.message;
      button.addEventListener("click", () => moveCursor(error.line, error.column));
      item.append(button);
      return item;
    }),
  );
  list.hidden = errors.length === 0;
}

async function check() {
  if (!current) return;
  const { view } = current;
  const source = view.state.doc.toString();
  const sequence = ++checkSequence;
  let body;
  try {
    const response = await fetch(CHECK_URL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      body: new URLSearchParams({ source }),
    });
    if (!response.ok) return;
    body = await response.json();
  } catch {
    return; // offline or server restarting: the next keystroke checks again
  }
  // A slower answer about older text must not overwrite a newer one.
  if (sequence !== checkSequence || !current || current.view !== view) return;
  if (view.state.doc.toString() !== source) return;
  view.dispatch(setDiagnostics(view.state, diagnosticsFor(view.state.doc, body.errors || [])));
  showProblems(body.errors || []);
  document.dispatchEvent(new CustomEvent("flowsite:checked", { detail: body }));
}

function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, CHECK_DELAY_MS);
}

const theme = EditorView.theme({
  "&": { border: "1px solid #c8ccd2", borderRadius: "4px", background: "#fff", fontSize: "14px" },
  "&.cm-focused": { outline: "2px solid #8ab4f8" },
  ".cm-scroller": { minHeight: "24em", maxHeight: "70vh", fontFamily: "ui-monospace, Menlo, Consolas, monospace" },
  ".cm-tooltip.cm-tooltip-hover, .cm-tooltip-autocomplete-info": { maxWidth: "32em", padding: "4px 8px" },
});

// The state's extensions reach the textarea and form through `current`, not closures:
// after a save swaps the partial, the same state (undo history included) lives on.
function newState(text, readOnly) {
  return EditorState.create({
    doc: text,
    extensions: [
      keymap.of([
        {
          key: "Mod-s",
          preventDefault: true,
          run: () => {
            if (current && current.form && !current.readOnly) current.form.requestSubmit();
            return true;
          },
        },
        indentWithTab,
      ]),
      basicSetup,
      indentUnit.of("  "),
      EditorState.tabSize.of(2),
      yaml(),
      yamlLanguage.data.of({ autocomplete: yamlCompletion() }),
      yamlLanguage.data.of({ autocomplete: typeCompletion }),
      hoverTooltip(yamlSchemaHover()),
      stateExtensions(undefined),
      lintGutter(),
      theme,
      EditorState.readOnly.of(readOnly),
      EditorView.editable.of(!readOnly),
      EditorView.contentAttributes.of({ "aria-label": "YAML source of the flow" }),
      EditorView.updateListener.of((update) => {
        if (!update.docChanged) return;
        if (current) current.textarea.value = update.state.doc.toString();
        dirty = true;
        scheduleCheck();
      }),
    ],
  });
}

function mount(textarea, previous) {
  const form = textarea.form;
  const readOnly = textarea.readOnly;
  const state = previous ? previous.state : newState(textarea.value, readOnly);
  textarea.value = state.doc.toString();
  const view = new EditorView({ parent: textarea.parentNode, state });
  textarea.parentNode.insertBefore(view.dom, textarea.nextSibling);
  // Out of sight but not display:none, so that whatever fills the textarea itself
  // (password managers, scripts, browser tests) still reaches the editor.
  textarea.style.cssText = "position:absolute;width:1px;height:1px;opacity:0;pointer-events:none";
  textarea.tabIndex = -1;
  textarea.setAttribute("aria-hidden", "true");
  textarea.addEventListener("input", () => {
    if (textarea.value === view.state.doc.toString()) return;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: textarea.value } });
  });
  textarea.dataset.flowEditorMounted = "true";
  current = { view, textarea, form, readOnly };
  flowSchema().then((schema) => {
    if (schema && current && current.view === view) updateSchema(view, schema);
    // Completion reads the schema: tests (and anyone timing the page) wait for this.
    if (window.flowsiteSchemaReadyMs === undefined) window.flowsiteSchemaReadyMs = performance.now();
  });
  if (form && !form.hasAttribute("hx-post")) {
    // A plain form leaves the page on submit: that is not losing work.
    form.addEventListener("submit", () => {
      dirty = false;
    });
  }
  check();
  return view;
}

function mountAll() {
  const textarea = document.querySelector("textarea[data-flow-editor]:not([data-flow-editor-mounted])");
  if (!textarea) return;
  let previous = null;
  if (current && !current.textarea.isConnected) {
    previous = { state: current.view.state };
    current.view.destroy();
  }
  mount(textarea, previous);
  if (window.flowsiteEditorReadyMs === undefined) window.flowsiteEditorReadyMs = performance.now();
}

function rememberPostedSource(event) {
  if (current && event.detail.elt === current.form) postedSource = current.view.state.doc.toString();
}

// The editor partial swaps itself (outerHTML): mount on the new textarea, keep the text.
function remount(event) {
  const saved = event.detail.xhr && event.detail.xhr.status < 300;
  const textBefore = current ? current.view.state.doc.toString() : null;
  mountAll();
  // Typing while the save was on its way leaves changes the server has not seen.
  if (saved && postedSource !== null && textBefore === postedSource) dirty = false;
}

function start() {
  document.addEventListener("htmx:beforeRequest", rememberPostedSource);
  document.addEventListener("htmx:afterSwap", remount);
  document.addEventListener("flowsite:goto", (event) => {
    const detail = event.detail || {};
    moveCursor(detail.line, detail.column);
  });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
}

// Loaded twice (a stray second script tag), the listeners would double up.
if (!window.flowsiteEditorLoaded) {
  window.flowsiteEditorLoaded = true;
  start();
}
