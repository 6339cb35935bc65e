// corpus.ts -- which steps a test runs against: its own, and every later one.
//
// A behaviour is written once, with the step it arrives in (its "since"), and
// runs against every later step of the same track (chat or redis): a step
// cannot break what an earlier step taught. The file lives in the test/
// folder of the step it arrives in (steps/NN-slug/test/) and says so with
// corpusSteps(NN); together these files are the tutorial's test corpus.
// New steps join by existing (see steps.ts).
//
// Unit tests of a module (line-editor, list, stream, ...) import each step's
// own copy of it (`await import(\`${step.dir}src/list.ts\`)`) and run on
// every step, even where the file is byte-identical to the step before: a
// module's unit tests take milliseconds, the copy may import a module that
// did change (db.ts changes in every Redis step), and each step keeps every
// behaviour it was checked for before the corpus. What costs time is servers,
// and those differ in every step anyway. `STEP=05` (set by `npm test -- --step 05`) narrows every
// cross-step test to one step, so a step's whole story runs in one command.

import { pathToFileURL } from "node:url";
import { listSteps, type Step } from "./steps.ts";

// The steps the test files under test/ run against: every step, or only
// the one named by the STEP environment variable ("05", "5" or "05-poll-loop").
export function testSteps(): Step[] {
  const only = process.env.STEP;
  const steps = listSteps();
  if (only === undefined || only === "") return steps;
  return steps.filter((s) => s.name === only || s.num === Number(only));
}

// The steps a test file runs against: its own step and every later step of
// the same track. (The Redis track starts over at step 10 with a new server;
// the chat steps' behaviours end with step 09.)
export function corpusSteps(since: number): Step[] {
  const first = listSteps().find((s) => s.num === since);
  if (first === undefined) throw new Error(`corpusSteps: no step ${since}`);
  return testSteps().filter((s) => s.num >= since && s.track === first.track);
}

// A file of a step, as a URL (what startServer and spawnTsInPty take).
export function stepFile(step: Step, path: string): URL {
  return pathToFileURL(`${step.dir}${path}`);
}
