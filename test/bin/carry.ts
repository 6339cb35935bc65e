// carry.ts -- `npm run carry -- steps/14-pubsub/src/glob.ts`: a fix, copied forward.
//
// A file a later step's lesson does not list must be a byte copy of the
// step before (the consistency check says so). After fixing it in the step
// that introduced it, this copies it to every later step in order, and
// stops at the first one that lists it: that step changes the file itself,
// so apply the same edit there by hand, then carry on from there.

import { resolve } from "node:path";
import { carry } from "../src/lessons.ts";
import { findStep, listSteps, ROOT, STEPS_DIR } from "../src/steps.ts";

const USAGE = "usage: npm run carry -- steps/NN-slug/<file>   (e.g. steps/14-pubsub/src/glob.ts)";
const [arg, ...extra] = process.argv.slice(2);
if (arg === "--help" || arg === "-h") {
  console.log(USAGE);
  process.exit(0);
}
function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}
if (arg === undefined || extra.length > 0) fail("give one file");
// npm runs scripts from the project root; INIT_CWD is where the user typed.
const path = resolve(process.env.INIT_CWD ?? process.cwd(), arg);
if (!path.startsWith(STEPS_DIR)) fail(`not a file in a step folder: ${arg}`);
const [stepName = "", ...rest] = path.slice(STEPS_DIR.length).split("/");
const file = rest.join("/");
const steps = listSteps();
const from = findStep(steps, stepName);
if (from === undefined || from.name !== stepName || file === "") fail(`no step folder in ${arg}`);
if (file.startsWith("test/")) fail("test files are the lesson's own: they are not carried");
let result: ReturnType<typeof carry>;
try {
  result = carry(steps, from, file);
} catch (err) {
  fail((err as Error).message);
}
const rel = path.slice(ROOT.length);
const names = (list: string[]) => (list.length > 0 ? list.join(" ") : "none");
console.log(`${rel} copied to: ${names(result.copied)}`);
if (result.same.length > 0) console.log(`already the same in: ${names(result.same)}`);
if (result.stoppedAt !== null) {
  console.log(
    `stopped at ${result.stoppedAt}: its lesson changes ${file}, so apply the edit there by hand, e.g.\n` +
      `  git diff -- ${rel} > /tmp/fix.patch && git apply -p3 --directory=steps/${result.stoppedAt} /tmp/fix.patch\n` +
      `then: npm run carry -- steps/${result.stoppedAt}/${file}`,
  );
} else {
  console.log("no later step changes it: carried to the last step");
}
