import { defineConfig } from "vitest/config";

// The matrix starts a real server per cell: give slow CI machines room, and
// write a JSON report that .ci/run sums into one line.
export default defineConfig({
  test: {
    include: ["*.test.ts", "bench/**/*.test.ts"],
    testTimeout: 30000,
    hookTimeout: 30000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
