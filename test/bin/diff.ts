// diff.ts -- `npm run diff -- 01 02`: the lesson of a step, as a unified diff.
//
// Folders are compared whole, minus what tools write into them, so that
// what shows is exactly what the step changed.

import { spawnSync } from "node:child_process";
import { findStep, listSteps } from "../src/steps.ts";

const steps = listSteps();
const [a, b] = process.argv.slice(2);
const from = a === undefined ? undefined : findStep(steps, a);
const to = b === undefined ? steps.find((s) => from && s.num === from.num + 1) : findStep(steps, b);
if (from === undefined || to === undefined) {
  console.error(
    `usage: npm run diff -- <step> [<step>]   steps: ${steps.map((s) => s.name).join(" ")}`,
  );
  process.exit(2);
}
const excludes = ["node_modules", ".turbo", ".vitest-report.json"].map((x) => `--exclude=${x}`);
const diff = spawnSync("diff", ["-ruN", ...excludes, `steps/${from.name}`, `steps/${to.name}`], {
  cwd: new URL("../../", import.meta.url),
  stdio: "inherit",
});
// diff exits 1 when the folders differ, which is the point: only 2 is an error.
process.exit(diff.status === 2 ? 2 : 0);
