import { defineConfig } from "vitest/config";

// A step's tests are its lesson's, and each runs against this step and every
// later one (@smallchat/test/corpus). They talk to real server processes over
// real sockets: give slow CI machines room, and write a JSON report that
// .ci/run sums into one line. --expose-gc lets the keyspace's memory tests
// (step 10's db.test.ts) see the heap after a real GC.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Up to four test files at a time: they mostly wait on servers, child
    // processes and the disk, not on the two cores.
    maxWorkers: 4,
    testTimeout: 30000,
    hookTimeout: 30000,
    execArgv: ["--expose-gc"],
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
