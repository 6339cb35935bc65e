import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// The files that take longest (every step's servers, a million keys
// expiring on each step from 17 on, leases) start first, longest first, so
// that on a fresh clone, with no timings cached yet, the run does not end
// with one long file running alone. The order is from one-step runs (step
// 21 of the 21-step layout: the differential test 31 s, the cross-step test
// 13 s, expiry.test.ts 9 s, redis-memory 8 s) times the steps each file
// runs on, and the chat track's matrix and hostile-relay.test.ts.
const LONGEST_FIRST = [
  "redis-diff.test.ts",
  "redis-diff-20.test.ts",
  "redis-diff-24.test.ts",
  "matrix.test.ts",
  "expiry.test.ts",
  "cross-step.test.ts",
  "hostile-relay.test.ts",
  "redis-memory.test.ts",
];

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(`/test/${name}`));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    const sorted = await super.sort(files);
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));

// Every step's tests run here, in one run with the matrix, the
// differential and the cross-step tests: those that reach later steps too
// (they call corpusSteps(): a lesson's tests, in its step's test/ folder)
// and those of one step alone (step 09's cluster), so that the files of
// every step share one pool of workers and none waits for another
// package's run. Each step package's own config still runs its tests of
// that step alone, for `npm test -- --step NN` and a reader in one step.
const stepTests = readdirSync(`${ROOT}steps`)
  .map((step) => `steps/${step}/test/`)
  .filter((dir) => existsSync(`${ROOT}${dir}`))
  .flatMap((dir) =>
    readdirSync(`${ROOT}${dir}`)
      .filter((f) => f.endsWith(".test.ts"))
      .map((f) => `${dir}${f}`),
  );

// They start real servers: give slow CI machines room, and write a JSON
// report that .ci/run sums into one line. --expose-gc lets step 17's memory
// test (expiry.test.ts) see the heap after a real GC.
export default defineConfig({
  root: ROOT,
  test: {
    include: ["test/*.test.ts", "test/bench/**/*.test.ts", ...stepTests],
    execArgv: ["--expose-gc"],
    testTimeout: 30000,
    hookTimeout: 30000,
    // Four test files at a time on two cores (vitest's default is cores - 1:
    // one at a time): most tests wait on a server, a timeout, a lease or a
    // child process, and the other files fill the gaps. Measured on this
    // 2-core machine: two workers 235 s, four 175 s, using 1.5 cores.
    maxWorkers: 4,
    // Each worker runs file after file in one process, as `--step NN` does
    // (vitest.step.config.ts): no test file sets globals, env or mocks.
    isolate: false,
    sequence: { sequencer: LongestFirst },
    reporters: ["default", ["json", { outputFile: "test/.vitest-report.json" }]],
  },
});
