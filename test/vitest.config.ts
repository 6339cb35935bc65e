import { defineConfig } from "vitest/config";

// The matrix and the corpus start real servers: give slow CI machines room,
// and write a JSON report that .ci/run sums into one line. --expose-gc lets
// the keyspace's memory tests (corpus/db.test.ts) see the heap after a real GC.
export default defineConfig({
  test: {
    include: ["*.test.ts", "corpus/*.test.ts", "bench/**/*.test.ts"],
    testTimeout: 30000,
    hookTimeout: 30000,
    execArgv: ["--expose-gc"],
    // Two test files at a time on two cores (vitest's default is cores - 1:
    // one at a time): most tests wait on a server, a timeout or a child
    // process, and the other file fills the gap. More than two starves the
    // CPU-bound ones (a million keys expiring) on a busy machine.
    maxWorkers: 2,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
