import { readdirSync, readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

// A step's tests are its lesson's. Those that run on every later step too
// (they call corpusSteps()) run in the test package, with every other step's
// (test/vitest.config.ts); here run the ones of this step alone. They talk to
// real server processes over real sockets: give slow CI machines room, and
// write a JSON report that .ci/run sums into one line.
const dir = new URL("test/", import.meta.url);
const ownTests = readdirSync(dir)
  .filter((f) => f.endsWith(".test.ts"))
  .filter((f) => !readFileSync(new URL(f, dir), "utf8").includes("corpusSteps("))
  .map((f) => `test/${f}`);

export default defineConfig({
  test: {
    include: ownTests,
    passWithNoTests: true,
    // Up to four test files at a time: they mostly wait on servers, child
    // processes and the disk, not on the two cores.
    maxWorkers: 4,
    testTimeout: 30000,
    hookTimeout: 30000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
