import { defineConfig } from "vitest/config";

// Every test talks to a real server process over real sockets: give slow CI
// machines room, and write a JSON report that .ci/run sums into one line.
// --expose-gc lets the keyspace's memory tests see the heap after a real GC.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20000,
    hookTimeout: 20000,
    execArgv: ["--expose-gc"],
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
