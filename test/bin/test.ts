// test.ts -- `npm test`: every check of every step; `npm test -- --step 05`:
// everything that applies to one step.
//
// The full run is turbo's: lint, typecheck and test in every package, two at
// a time (the machine has two cores), then a table of what ran per step. Any
// other argument goes to turbo (`.ci/run` says `--force`).
//
// With `--step NN` nothing is linted or cached: vitest runs the step's own
// lesson tests (steps/NN-slug/test/), then, in test/, every corpus file whose
// "since" reaches the step and every cross-step file (matrix, differential,
// cross-step), each narrowed to that one step by the STEP environment variable
// (see test/src/corpus.ts).

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

// The step a corpus file starts at, read from its `corpusSteps(NN)` call.
function since(file: string): number | undefined {
  const m = /corpusSteps\((\d+)\)/.exec(readFileSync(file, "utf8"));
  return m ? Number(m[1]) : undefined;
}

// Does the corpus file run against `step`? From its since on, same track.
function corpusApplies(file: string, step: Step): boolean {
  const from = since(file);
  const first = steps.find((s) => s.num === from);
  return first !== undefined && step.num >= first.num && step.track === first.track;
}

/* ============================ The summary ================================
 * Read back the JSON reports vitest wrote, and count per step: the lesson's
 * own tests (steps/NN/test), the corpus rows (test/corpus, whose outermost
 * describe is the step's name) and the other cross-step rows (matrix,
 * differential, cross-step: also grouped under the step's name).
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

function summary(only: Step[]): void {
  const shared = readReport(`${TEST_DIR}.vitest-report.json`);
  const rows: string[][] = [
    [
      "step",
      "lesson tests",
      "corpus rows",
      "(since this step)",
      "matrix/diff/cross-step",
      "failed",
    ],
  ];
  for (const step of only) {
    const count = { lesson: 0, corpus: 0, fresh: 0, other: 0, failed: 0 };
    const lesson = readReport(`${step.dir}.vitest-report.json`);
    for (const f of lesson?.testResults ?? []) {
      for (const t of f.assertionResults) {
        count.lesson++;
        if (t.status === "failed") count.failed++;
      }
    }
    for (const f of shared?.testResults ?? []) {
      const corpus = f.name.includes("/test/corpus/");
      const fresh = corpus && existsSync(f.name) && since(f.name) === step.num;
      for (const t of f.assertionResults) {
        if (t.ancestorTitles[0] !== step.name) continue;
        if (corpus) count.corpus++;
        else count.other++;
        if (fresh) count.fresh++;
        if (t.status === "failed") count.failed++;
      }
    }
    rows.push([
      step.name,
      String(count.lesson),
      String(count.corpus),
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
  const vitest = ["vitest", "run", "--passWithNoTests"];
  let status = 0;
  // The lesson's own tests (when the step has any) run alongside the corpus,
  // their output held back until the corpus is done: two cores, two runs.
  const lesson =
    testFiles(`${step.dir}test`).length > 0 ? runQuietly("npx", vitest, step.dir) : undefined;
  const corpus = testFiles(`${TEST_DIR}corpus`)
    .map((f) => `corpus/${f}`)
    .filter((f) => corpusApplies(`${TEST_DIR}${f}`, step));
  // Cross-step files that narrow themselves to STEP (they call testSteps()).
  const crossStep = testFiles(TEST_DIR).filter((f) =>
    readFileSync(`${TEST_DIR}${f}`, "utf8").includes("testSteps("),
  );
  console.log(`\n== ${step.name}: the corpus and the cross-step tests (test/, STEP=${step.name})`);
  status |= run("npx", [...vitest, ...corpus, ...crossStep], TEST_DIR, { STEP: step.name });
  if (lesson !== undefined) {
    const [code, out] = await lesson;
    console.log(`\n== ${step.name}: the lesson's own tests (steps/${step.name}/test)\n${out}`);
    status |= code;
  }
  summary([step]);
  process.exit(status === 0 ? 0 : 1);
}

/* ============================ Every step ================================ */

const status = run(
  "npx",
  ["turbo", "run", "lint", "typecheck", "test", "--continue", "--concurrency=2", ...args],
  ROOT,
);
summary(steps);
process.exit(status);
