// Completion for `type:` values (task types, task runner types).
//
// codemirror-json-schema resolves a `oneOf` by matching the text against each branch,
// so inside a task that has no type yet no branch matches and it offers nothing. Here
// every branch at the cursor's path contributes the values its `type` allows.

import { getJSONSchema } from "codemirror-json-schema";

const ITEM = Symbol("list item");
const KEY_LINE = /^(\s*)(- +)?([\w.-]+)\s*:/;

function resolve(root, node) {
  let current = node;
  for (let depth = 0; current && current.$ref && depth < 20; depth++) {
    const path = current.$ref.replace(/^#\//, "").split("/");
    current = path.reduce((value, part) => (value ? value[part] : undefined), root);
  }
  return current;
}

// A schema and every branch it may take, $refs followed.
function branches(root, node, into = []) {
  const schema = resolve(root, node);
  if (!schema || typeof schema !== "object") return into;
  into.push(schema);
  for (const keyword of ["anyOf", "oneOf", "allOf"]) {
    for (const branch of schema[keyword] || []) branches(root, branch, into);
  }
  return into;
}

// The keys and list items above the cursor's line: ["tasks", ITEM, "taskRunner"].
function pathAt(doc, lineNumber) {
  const line = doc.line(lineNumber).text;
  const match = KEY_LINE.exec(line);
  if (!match) return null;
  const path = [];
  let target = match[1].length + (match[2] || "").length;
  if (match[2]) {
    path.push(ITEM);
    target = match[1].length;
  }
  for (let n = lineNumber - 1; n >= 1 && target > 0; n--) {
    const text = doc.line(n).text;
    if (!text.trim() || text.trim().startsWith("#")) continue;
    const above = KEY_LINE.exec(text);
    const indent = text.length - text.trimStart().length;
    const dash = /^\s*- /.exec(text);
    const keyColumn = above ? above[1].length + (above[2] || "").length : indent;
    if (dash && keyColumn === target) {
      path.push(ITEM); // a sibling key of the same list item
      target = indent;
    } else if (above && keyColumn < target) {
      path.push(above[3]);
      target = keyColumn;
      if (above[2]) {
        path.push(ITEM);
        target = above[1].length;
      }
    }
  }
  return path.reverse();
}

function typeValues(root, path) {
  let nodes = [root];
  for (const segment of path) {
    nodes = nodes
      .flatMap((node) => branches(root, node))
      .map((schema) => (segment === ITEM ? schema.items : (schema.properties || {})[segment]))
      .filter(Boolean);
  }
  const values = new Map();
  for (const schema of nodes.flatMap((node) => branches(root, node))) {
    const type = (schema.properties || {}).type;
    if (!type) continue;
    for (const option of branches(root, type)) {
      for (const value of option.enum || (option.const !== undefined ? [option.const] : [])) {
        if (!values.has(value)) values.set(value, schema.description || "");
      }
    }
  }
  return values;
}

export function typeCompletion(context) {
  const before = context.matchBefore(/^\s*(- +)?type:\s*[\w.]*$/);
  if (!before) return null;
  const schema = getJSONSchema(context.state);
  if (!schema) return null;
  const line = context.state.doc.lineAt(context.pos);
  const path = pathAt(context.state.doc, line.number);
  if (!path) return null;
  const values = typeValues(schema, path);
  if (!values.size) return null;
  const word = context.matchBefore(/[\w.]*$/);
  return {
    from: word ? word.from : context.pos,
    options: [...values].map(([label, info]) => ({ label, type: "enum", info: info || undefined })),
    validFor: /^[\w.]*$/,
  };
}
