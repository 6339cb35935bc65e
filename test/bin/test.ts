// test.ts -- `npm test`: every check of every step; `npm test -- --step 05`:
// everything that applies to one step.
//
// The full run is turbo's: the test package's one vitest run, which takes
// every step's tests with the cross-step ones (test/vitest.config.ts), and
// beside it one lint and one typecheck of the whole
// tree (`npm run check`: biome over everything, then tsc over every step at
// once, which reads Node's types once instead of once per step: 20 s of CPU
// where a typecheck per package took 135), then a table of what ran per
// step. Any other argument goes to turbo (`.ci/run` says `--force`). Each
// package keeps its own `lint` and `typecheck` for a reader working in one
// step.
//
// A step's tests live in its own test/ folder and are its lesson's; a test
// that calls corpusSteps(NN) runs against step NN and every later step of
// the track (test/src/corpus.ts). With `--step NN` nothing is linted or
// cached: one vitest run (test/vitest.step.config.ts) takes every such file
// of steps up to NN and the cross-step files (matrix, differential,
// cross-step), each narrowed to that one step by the STEP environment
// variable; alongside it, the step's package runs its tests of that step
// alone.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { findStep, listSteps, ROOT, type Step } from "../src/steps.ts";

const TEST_DIR = `${ROOT}test/`;
const args = process.argv.slice(2);
const steps = listSteps();

function run(
  cmd: string,
  cmdArgs: string[],
  cwd: string,
  env: Record<string, string> = {},
): number {
  const r = spawnSync(cmd, cmdArgs, { cwd, stdio: "inherit", env: { ...process.env, ...env } });
  return r.status ?? 1;
}

// Run a command with its output kept aside; resolve with its status and output.
function runQuietly(cmd: string, cmdArgs: string[], cwd: string): Promise<[number, string]> {
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.on("close", (code) => resolve([code ?? 1, out]));
  });
}

function testFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".test.ts")) : [];
}

// The step a test file starts at, read from its `corpusSteps(NN)` call;
// undefined for a test of its own step only.
function since(file: string): number | undefined {
  const m = /corpusSteps\((\d+)\)/.exec(readFileSync(file, "utf8"));
  return m ? Number(m[1]) : undefined;
}

// Does the file run against `step`? From its since on, same track.
function corpusApplies(file: string, step: Step): boolean {
  const from = since(file);
  const first = steps.find((s) => s.num === from);
  return first !== undefined && step.num >= first.num && step.track === first.track;
}

/* ============================ The summary ================================
 * Read back the JSON reports vitest wrote, and count per step: the rows of
 * the steps' tests run against it (the outermost describe of a corpusSteps()
 * file is the step's name; a test of one step only counts for that step),
 * how many of those arrive with this step's lesson, and the other
 * cross-step rows (matrix, differential, cross-step: also grouped under the
 * step's name).
 * ======================================================================== */

interface Report {
  testResults: Array<{
    name: string;
    assertionResults: Array<{ ancestorTitles: string[]; status: string }>;
  }>;
}

function readReport(file: string): Report | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Report) : undefined;
}

function summary(only: Step[], reports: string[]): void {
  const results = reports.flatMap((file) => readReport(file)?.testResults ?? []);
  const rows: string[][] = [
    ["step", "steps' tests", "(this lesson's)", "matrix/diff/cross-step", "failed"],
  ];
  for (const step of only) {
    const count = { steps: 0, fresh: 0, other: 0, failed: 0 };
    for (const f of results) {
      const owner = steps.find((s) => f.name.startsWith(`${s.dir}test/`));
      const from = existsSync(f.name) ? since(f.name) : undefined;
      for (const t of f.assertionResults) {
        // A corpusSteps() file and a cross-step file group rows by step
        // name; a test of one step only is that step's.
        const mine =
          from === undefined && owner !== undefined
            ? owner === step
            : t.ancestorTitles[0] === step.name;
        if (!mine) continue;
        if (owner === undefined) count.other++;
        else count.steps++;
        if (owner === step) count.fresh++;
        if (t.status === "failed") count.failed++;
      }
    }
    rows.push([
      step.name,
      String(count.steps),
      String(count.fresh),
      String(count.other),
      String(count.failed),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log("\nTests per step (from the JSON reports):");
  for (const r of rows) console.log(`  ${r.map((c, i) => c.padEnd(widths[i]!)).join("  ")}`);
}

/* ============================ One step ================================== */

const at = args.indexOf("--step");
if (at !== -1) {
  const key = args[at + 1];
  const step = key === undefined ? undefined : findStep(steps, key);
  if (step === undefined) {
    console.error(`usage: npm test -- --step <NN>   steps: ${steps.map((s) => s.name).join(" ")}`);
    process.exit(2);
  }
  // The step's tests of that step alone (its package's run) go alongside,
  // their output held back until the rest is done: two cores, two runs.
  const own = testFiles(`${step.dir}test`).some((f) => since(`${step.dir}test/${f}`) === undefined)
    ? runQuietly("npx", ["vitest", "run", "--isolate=false"], step.dir) // See vitest.step.config.ts.
    : undefined;
  // Every test of the steps up to this one that reaches it (corpusSteps()).
  const stepTests = steps
    .filter((s) => s.num <= step.num && s.track === step.track)
    .flatMap((s) => testFiles(`${s.dir}test`).map((f) => `${s.dir}test/${f}`))
    .filter((f) => since(f) !== undefined && corpusApplies(f, step));
  // Cross-step files that narrow themselves to STEP (they call testSteps()),
  // and the one differential file whose range of steps holds this one (it
  // calls diffSteps(first, last)).
  const crossStep = testFiles(TEST_DIR)
    .filter((f) => {
      const text = readFileSync(`${TEST_DIR}${f}`, "utf8");
      const range = /diffSteps\((\d+)(?:, (\d+))?\)/.exec(text);
      if (range === null) return text.includes("testSteps(");
      return step.num >= Number(range[1]) && step.num <= Number(range[2] ?? Infinity);
    })
    .map((f) => `${TEST_DIR}${f}`);
  console.log(`\n== ${step.name}: the steps' tests that reach it, the cross-step tests`);
  let status = run(
    "npx",
    [
      "vitest",
      "run",
      "--passWithNoTests",
      "--config",
      "test/vitest.step.config.ts",
      ...stepTests,
      ...crossStep,
    ],
    ROOT,
    { STEP: step.name },
  );
  if (own !== undefined) {
    const [code, out] = await own;
    console.log(
      `\n== ${step.name}: its tests of this step alone (steps/${step.name}/test)\n${out}`,
    );
    status |= code;
  }
  const reports = [`${TEST_DIR}.vitest-step-report.json`];
  if (own !== undefined) reports.push(`${step.dir}.vitest-report.json`);
  summary([step], reports);
  process.exit(status === 0 ? 0 : 1);
}

/* ============================ Every step ================================ */

const status = run(
  "npx",
  [
    "turbo",
    "run",
    "check",
    "test",
    "--filter=//",
    "--filter=@smallchat/test",
    "--continue",
    "--concurrency=2",
    ...args,
  ],
  ROOT,
);
summary(steps, [
  `${TEST_DIR}.vitest-report.json`,
  ...steps.map((s) => `${s.dir}.vitest-report.json`),
]);
process.exit(status);
