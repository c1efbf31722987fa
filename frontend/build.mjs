// `npm run build`: bundles frontend/editor.js into static/editor/editor.js (committed,
// so running Flowsite needs no Node).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const standIns = {
  name: "stand-ins",
  setup(b) {
    const replaced = [
      [/\/utils\/markdown(\.js)?$/, "./markdown.js"],
      [/^\.\.\/parsers(\/index)?(\.js)?$/, "./yaml-parsers.js"],
    ];
    for (const [filter, file] of replaced) {
      b.onResolve({ filter }, (args) =>
        args.importer.includes("codemirror-json-schema")
          ? { path: fileURLToPath(new URL(file, import.meta.url)) }
          : undefined,
      );
    }
  },
};

const result = await build({
  entryPoints: ["frontend/editor.js"],
  outfile: "static/editor/editor.js",
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "eof",
  plugins: [standIns],
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs)[0].bytes;
if (process.env.ANALYZE) {
  // ANALYZE=1 npm run build: which packages weigh what in the bundle.
  const sizes = {};
  for (const [file, input] of Object.entries(Object.values(result.metafile.outputs)[0].inputs)) {
    const parts = file.replace(/^node_modules\//, "").split("/");
    const name = parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
    sizes[name] = (sizes[name] || 0) + input.bytesInOutput;
  }
  console.table(Object.entries(sizes).sort((a, b) => b[1] - a[1]).slice(0, 15));
}
console.log(`static/editor/editor.js ${(bytes / 1024).toFixed(0)} kB`);
