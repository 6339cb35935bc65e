import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// The files that take longest (they wait on leases, timers and every step's
// servers) start first, so that on a fresh clone, with no timings cached
// yet, the run does not end with one long file running alone.
const LONGEST_FIRST = ["cross-step.test.ts", "redis-diff.test.ts", "matrix.test.ts"];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(`/test/${name}`));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    const sorted = await super.sort(files);
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

// The matrix, the differential and the cross-step tests start real servers:
// give slow CI machines room, and write a JSON report that .ci/run sums into
// one line.
export default defineConfig({
  test: {
    include: ["*.test.ts", "bench/**/*.test.ts"],
    testTimeout: 30000,
    hookTimeout: 30000,
    // Four test files at a time on two cores (vitest's default is cores - 1:
    // one at a time): most tests wait on a server, a timeout, a lease or a
    // child process, and the other files fill the gaps. Measured on this
    // 2-core machine: two workers 235 s, four 175 s, using 1.5 cores.
    maxWorkers: 4,
    sequence: { sequencer: LongestFirst },
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
