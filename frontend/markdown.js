// Stands in for codemirror-json-schema's utils/markdown.js, which loads markdown-it and
// shiki (about 600 kB minified) to render schema descriptions. Flowsite's descriptions
// are short plain sentences: escaping them and honouring `code` is all they need.

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderMarkdown(markdown, inline = true) {
  const html = escape(markdown).replace(/`([^`]+)`/g, "<code>$1</code>");
  return inline ? html : html.split(/\n{2,}/).map((p) => `<p>${p}</p>`).join("");
}
