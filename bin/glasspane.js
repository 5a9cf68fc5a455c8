#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` (part of the README's setup) produces dist/.
import("../dist/main/cli/index.js").catch((err) => {
  if (err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("dist/main/cli")) {
    console.error("glasspane: not built yet; run `npm run build` in the glasspane folder first");
    process.exit(1);
  }
  throw err;
});
