import { defineConfig } from "vitest/config";

// Every test talks to a real server process over real sockets: give slow CI
// machines room, and write a JSON report that .ci/run sums into one line.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A step whose lesson is taught by corpus rows alone (test/corpus) has
    // no test file of its own.
    passWithNoTests: true,
    // Up to four test files at a time: they mostly wait on servers, child
    // processes and the disk, not on the two cores.
    maxWorkers: 4,
    testTimeout: 20000,
    hookTimeout: 20000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
