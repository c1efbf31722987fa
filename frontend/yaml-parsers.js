// Stands in for codemirror-json-schema's parsers/index.js: Flowsite edits YAML only, and
// the JSON and JSON5 parsers it would pull in weigh about 50 kB for nothing.
import { parseYAMLDocumentState } from "codemirror-json-schema/yaml";

export const getDefaultParser = () => parseYAMLDocumentState;
