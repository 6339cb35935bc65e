import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { LongestFirst } from "./vitest.config.ts";

// `npm test -- --step NN` (bin/test.ts): one run, from the project root, over
// the files it names: the steps' tests that reach step NN and the cross-step
// tests, narrowed to step NN by the STEP environment variable. The same
// settings as the test package's config.
export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["steps/*/test/**/*.test.ts", "test/*.test.ts"],
    maxWorkers: 4,
    // Each worker runs file after file in the one process instead of a
    // fresh one per file: no test file sets globals, env or mocks, and
    // each starts its own servers. A fresh process per file cost about a
    // third of the run's CPU (step 25, 36 files: 44 s of CPU, 31 s without):
    // node, vitest, ioredis and the server's build, again for every file.
    isolate: false,
    sequence: { sequencer: LongestFirst },
    testTimeout: 30000,
    hookTimeout: 30000,
    execArgv: ["--expose-gc"],
    reporters: ["default", ["json", { outputFile: "test/.vitest-step-report.json" }]],
  },
});
