// lessons.ts -- a step's lesson as its package.json lists it: shown as a diff, carried forward.
//
// Each step's "lesson.changes" names the files the step changes; every other
// file is a byte copy of the step before. `npm run diff -- NN` shows just
// those files, and `npm run carry` copies a fix forward until a step that
// changes the file itself.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import type { Step } from "./steps.ts";

/* ============================ Diff ======================================== */

// A unified diff of one file, each side labelled with its path from `root`;
// a side that does not exist is /dev/null (a new file).
function diffFile(root: string, from: string | null, to: string): string {
  const label = (f: string) => relative(root, f);
  const args = ["-u", "--label", from ? label(from) : "/dev/null", "--label", label(to)];
  const run = spawnSync("diff", [...args, from ?? "/dev/null", to], { encoding: "utf8" });
  // diff exits 1 when the files differ, which is the point: only 2 is an error.
  if (run.status === 2) throw new Error(run.stderr.trim());
  return run.stdout;
}

// The lesson of `step` against `prev`, the step before it: each file its
// lesson changes against the same path in `prev` (its ancestor), or against
// /dev/null if it is new; a file the lesson deletes is named on one line.
// So the first step of the Redis track shows its event loop against the
// chat's, leaves poller.ts out (unchanged), and names the chat's files it
// drops instead of printing every line of them going away.
export function lessonDiff(root: string, prev: Step, step: Step): string {
  const deleted = step.changes.filter((f) => !existsSync(step.dir + f));
  let out = `step ${step.name}: the ${step.changes.length} files its lesson changes, against ${prev.name}\n`;
  for (const f of deleted) out += `deleted: ${relative(root, prev.dir + f)}\n`;
  for (const f of step.changes) {
    if (deleted.includes(f)) continue;
    out += diffFile(root, existsSync(prev.dir + f) ? prev.dir + f : null, step.dir + f);
  }
  return out;
}

/* ============================ Carry ======================================= */

export interface Carried {
  /** Steps that got the new copy. */
  copied: string[];
  /** Later steps that already had these exact bytes. */
  same: string[];
  /** The first later step that lists the file in its lesson: edit it there by hand. */
  stoppedAt: string | null;
}

// Copy `file` (a path inside step `from`, e.g. "src/glob.ts") to every later
// step, in order, until one whose lesson lists it: that step changes the
// file itself, so a fix has to be applied there by hand (and carried on from
// there). Test files are a lesson's own and are never carried.
export function carry(steps: Step[], from: Step, file: string): Carried {
  const bytes = readFileSync(from.dir + file);
  const result: Carried = { copied: [], same: [], stoppedAt: null };
  for (const step of steps.filter((s) => s.num > from.num)) {
    if (step.changes.includes(file)) {
      result.stoppedAt = step.name;
      break;
    }
    const target = step.dir + file;
    if (existsSync(target) && readFileSync(target).equals(bytes)) {
      result.same.push(step.name);
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(from.dir + file, target);
    result.copied.push(step.name);
  }
  return result;
}
