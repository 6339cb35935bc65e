// diff.ts -- `npm run diff -- 10`: the lesson of a step, as a unified diff.
//
//   npm run diff -- 10        the files step 10's lesson changes, each against
//                             the same file in step 09 (deleted ones by name)
//   npm run diff -- 09 09     the two folders compared whole
//
// With two steps, folders are compared whole, minus what tools write into
// them: everything that differs shows, listed or not.

import { spawnSync } from "node:child_process";
import { lessonDiff } from "../src/lessons.ts";
import { findStep, listSteps, ROOT, type Step } from "../src/steps.ts";

const steps = listSteps();
const args = process.argv.slice(2);
const usage = `usage: npm run diff -- <step> [<step>]\nthe steps are: ${steps.map((s) => s.name).join(" ")}`;
if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
  console.log(usage);
  process.exit(0);
}
const unknown = args.find((a) => findStep(steps, a) === undefined);
if (args.length < 1 || args.length > 2 || unknown !== undefined) {
  console.error(`${unknown === undefined ? "" : `no such step: ${unknown}\n`}${usage}`);
  process.exit(2);
}
const [from, to] = args.map((a) => findStep(steps, a)!) as [Step, Step | undefined];
if (to === undefined) {
  // No process.exit() after this write: on a pipe it could cut the diff short.
  const prev = steps.findLast((s) => s.num < from.num);
  process.stdout.write(
    prev === undefined
      ? `step ${from.name} is the first step: there is no step before it to diff against\n`
      : lessonDiff(ROOT, prev, from),
  );
} else {
  wholeFolders(from.name, to.name);
}

function wholeFolders(from: string, to: string): void {
  const excludes = ["node_modules", ".turbo", ".vitest-report.json"].map((x) => `--exclude=${x}`);
  const diff = spawnSync("diff", ["-ruN", ...excludes, `steps/${from}`, `steps/${to}`], {
    cwd: ROOT,
    stdio: "inherit",
  });
  // diff exits 1 when the folders differ, which is the point: only 2 is an error.
  process.exitCode = diff.status === 2 ? 2 : 0;
}
