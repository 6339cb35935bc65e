// consistency.test.ts -- a step folder is the previous one plus its lesson.
//
// A reader diffs step N against step N+1 and must see the lesson and nothing
// else. So each step's package.json lists the files its lesson changes
// ("lesson": {"changes": [...]}), and a machine, not an eye, checks:
// - a file present in both steps and not listed is byte-identical (a fix
//   left behind in one step, or a drive-by edit, fails here);
// - a listed file really changed, or was added or removed;
// - added and removed files are listed;
// - every "Step NN fixes this" promise is gone by step NN.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { listSteps, type Step } from "./src/steps.ts";

// Build output and tool caches are not part of a step.
const IGNORED = new Set(["node_modules", ".turbo", ".vitest-report.json"]);

function filesOf(dir: string, prefix = ""): string[] {
  return readdirSync(`${dir}${prefix}`).flatMap((name) => {
    if (IGNORED.has(name)) return [];
    const rel = `${prefix}${name}`;
    return statSync(`${dir}${rel}`).isDirectory() ? filesOf(dir, `${rel}/`) : [rel];
  });
}

const steps = listSteps();
const pairs: Array<[Step, Step]> = steps.slice(1).map((s, i) => [steps[i]!, s]);

describe.each(pairs.map(([prev, next]) => ({ prev, next, name: `${prev.name} -> ${next.name}` })))(
  "$name",
  ({ prev, next }) => {
    const before = new Set(filesOf(prev.dir));
    const after = new Set(filesOf(next.dir));
    const listed = new Set(next.changes);
    const same = (f: string) => readFileSync(prev.dir + f).equals(readFileSync(next.dir + f));

    it("carries every unlisted file forward byte for byte", () => {
      const drifted = [...after].filter((f) => before.has(f) && !listed.has(f) && !same(f));
      expect(drifted, "changed but not in lesson.changes").toEqual([]);
    });

    it("lists every added and removed file", () => {
      const added = [...after].filter((f) => !before.has(f) && !listed.has(f));
      const removed = [...before].filter((f) => !after.has(f) && !listed.has(f));
      expect({ added, removed }).toEqual({ added: [], removed: [] });
    });

    it("lists only files that really changed", () => {
      const stale = [...listed].filter((f) => before.has(f) && after.has(f) && same(f));
      const phantom = [...listed].filter((f) => !before.has(f) && !after.has(f));
      expect({ stale, phantom }).toEqual({ stale: [], phantom: [] });
    });
  },
);

describe("promises", () => {
  it.each(steps.map((s) => ({ step: s, name: s.name })))(
    "$name keeps no promise that is already due",
    ({ step }) => {
      const due: string[] = [];
      for (const f of filesOf(step.dir)) {
        const text = readFileSync(step.dir + f, "utf8");
        for (const m of text.matchAll(/Step\s+(\d\d)\s+fixes\s+this/g)) {
          if (Number(m[1]) <= step.num) due.push(`${f}: ${m[0]}`);
        }
      }
      expect(due).toEqual([]);
    },
  );
});
