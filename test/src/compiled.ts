// compiled.ts -- how the tests start a step's TypeScript program: compiled
// once into one JavaScript file, then `node file.mjs`.
//
// A reader runs `node --import tsx server.ts`: tsx compiles each .ts file
// with esbuild as node loads it. That costs 0.4-1 s before the server listens,
// and the tests start thousands of servers. So the tests ask esbuild (the
// same compiler) for the whole program in one file, once per test process
// and entry point, and start that: about 0.1 s to "listening". The code that
// runs is the same; only the step of compiling moved. SMALLCHAT_TEST_TSX=1
// starts every program through tsx instead, exactly as a reader does.

import { mkdirSync, rmSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { ROOT, STEPS_DIR } from "./steps.ts";

const OUT_DIR = `${ROOT}node_modules/.cache/smallchat-test/`;
const compiled = new Map<string, string>();

process.once("exit", () => {
  for (const file of compiled.values()) rmSync(file, { force: true });
});

// The node arguments that run `script` (a .ts entry point) with `args`.
// Only a step's programs are compiled: the project's own scripts (test/bin)
// find the repository from their own file's URL, which a bundle elsewhere
// would change.
export function nodeArgs(script: URL | string, args: string[] = []): string[] {
  const file = script instanceof URL ? fileURLToPath(script) : script;
  const stepProgram = file.startsWith(STEPS_DIR) && file.endsWith(".ts");
  if (process.env.SMALLCHAT_TEST_TSX === "1" || !stepProgram) {
    return ["--import", "tsx", file, ...args];
  }
  let out = compiled.get(file);
  if (out === undefined) {
    // Named after the step and the file, and this process: test processes
    // running side by side never write each other's files.
    const step = /steps\/([^/]+)\//.exec(file)?.[1] ?? "x";
    out = `${OUT_DIR}${step}-${basename(file, ".ts")}-${process.pid}-${compiled.size}.mjs`;
    mkdirSync(OUT_DIR, { recursive: true });
    buildSync({
      entryPoints: [file],
      outfile: out,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      // Everything is compiled in: the workspace's own .ts packages
      // (@smallchat/shared) and npm's (step 09's ioredis, whose few dozen
      // CommonJS files then load as one: 0.2 s of CPU instead of 0.33 s to
      // start a node). CommonJS inside an ES module needs a `require`.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: "error",
    });
    compiled.set(file, out);
  }
  return [out, ...args];
}
