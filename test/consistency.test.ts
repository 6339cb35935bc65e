// consistency.test.ts -- a step folder is the previous one plus its lesson.
//
// A reader diffs step N against step N+1 and must see the lesson and nothing
// else. So each step's package.json lists the files its lesson changes
// ("lesson": {"changes": [...]}), and a machine, not an eye, checks:
// - a file present in both steps and not listed is byte-identical (a fix
//   left behind in one step, or a drive-by edit, fails here);
// - a listed file really changed, or was added or removed;
// - added and removed files are listed;
// - test files (test/...) are the lesson's own, not carried forward: every
//   test file of a step is listed in its changes, and none is a byte-for-byte
//   copy of an earlier step's (a behaviour that outlives its step lives once,
//   in the step it arrives in, and runs against every later step from there);
// - every "Step NN fixes this" promise is gone by step NN;
// - comments tell the truth of the step they sit in, as far as a machine
//   can tell: a source file names no step that does not exist, no header
//   paragraph "// Step NN ..." sits in a step before NN (copied backwards),
//   and "New in this step" appears only in files the step lists as changed
//   (else it is a header copied forward from the step that was new), and a
//   function named in code font next to a step ("step 19's `blockForKeys()`")
//   is in that step's source;
// - no step has an import cycle in src/: a module that imports one that
//   imports it back may run before the other is initialised, and a
//   top-level `new CommandError(...)` then dies with "Cannot access
//   'CommandError' before initialization". Type-only imports are erased
//   by TypeScript and do not count.

import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
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

// A file's text with comment markers at line starts removed, so that a
// phrase broken over two comment lines reads as one.
function prose(path: string): string {
  return readFileSync(path, "utf8").replace(/\n[ \t]*(\/\/|\*)[ \t]?/g, "\n");
}

// A step's own tests: not carried forward, so outside the carry-forward rules.
const isTest = (f: string) => f.startsWith("test/");

const steps = listSteps();
const pairs: Array<[Step, Step]> = steps.slice(1).map((s, i) => [steps[i]!, s]);

describe.each(pairs.map(([prev, next]) => ({ prev, next, name: `${prev.name} -> ${next.name}` })))(
  "$name",
  ({ prev, next }) => {
    const before = new Set(filesOf(prev.dir).filter((f) => !isTest(f)));
    const after = new Set(filesOf(next.dir).filter((f) => !isTest(f)));
    const listed = new Set(next.changes.filter((f) => !isTest(f)));
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

describe("lesson tests", () => {
  it.each(steps.map((s) => ({ step: s, name: s.name })))(
    "$name lists every test file it has, and only those",
    ({ step }) => {
      const tests = filesOf(step.dir).filter(isTest).sort();
      expect(step.changes.filter(isTest).sort()).toEqual(tests);
    },
  );

  it("no test file under steps/ is a copy of an earlier step's", () => {
    const seen = new Map<string, string>();
    const copies: string[] = [];
    for (const step of steps) {
      for (const f of filesOf(step.dir).filter(isTest)) {
        const hash = createHash("sha256")
          .update(readFileSync(step.dir + f))
          .digest("hex");
        const first = seen.get(hash);
        if (first !== undefined) copies.push(`${step.name}/${f} = ${first}`);
        else seen.set(hash, `${step.name}/${f}`);
      }
    }
    expect(copies).toEqual([]);
  });
});

describe("promises", () => {
  it.each(steps.map((s) => ({ step: s, name: s.name })))(
    "$name keeps no promise that is already due",
    ({ step }) => {
      const due: string[] = [];
      for (const f of filesOf(step.dir)) {
        for (const m of prose(step.dir + f).matchAll(/Step\s+(\d\d)\s+fixes\s+this/g)) {
          if (Number(m[1]) <= step.num) due.push(`${f}: ${m[0]}`);
        }
      }
      expect(due).toEqual([]);
    },
  );
});

describe("comments", () => {
  const newest = Math.max(...steps.map((s) => s.num));
  const sources = (step: Step) => filesOf(step.dir).filter((f) => f.startsWith("src/"));

  it.each(steps.map((s) => ({ step: s, name: s.name })))(
    "$name names no step that does not exist yet",
    ({ step }) => {
      const bad: string[] = [];
      for (const f of sources(step)) {
        for (const m of prose(step.dir + f).matchAll(/\bsteps?\s+(\d\d)(?:\s*[-–]\s*(\d\d))?/gi)) {
          if (Math.max(Number(m[1]), Number(m[2] ?? 0)) > newest) bad.push(`${f}: ${m[0]}`);
        }
      }
      expect(bad).toEqual([]);
    },
  );

  it.each(steps.map((s) => ({ step: s, name: s.name })))(
    "$name has no header paragraph of a later step",
    ({ step }) => {
      const bad: string[] = [];
      for (const f of sources(step)) {
        for (const m of readFileSync(step.dir + f, "utf8").matchAll(/^\/\/ Step (\d\d)\b.*$/gm)) {
          if (Number(m[1]) > step.num && !/fixes this/.test(m[0])) bad.push(`${f}: ${m[0]}`);
        }
      }
      expect(bad).toEqual([]);
    },
  );

  // "step 19's `blockForKeys()`", "`serverCron()` (step 17)": a function
  // named in code font next to a step must be in that step's source. A
  // re-cut or a rename that leaves the name behind shows up here.
  it.each(steps.map((s) => ({ step: s, name: s.name })))(
    "$name names functions of a step only where that step has them",
    ({ step }) => {
      const bad: string[] = [];
      const named =
        /\bsteps?\s+(\d\d)(?:['’]s)?\s+`(?:[\w.]+\.)?(\w+)\(\)`|`(?:[\w.]+\.)?(\w+)\(\)`\s+\((?:in\s+)?steps?\s+(\d\d)\)/gi;
      for (const f of filesOf(step.dir).filter((f) => f.startsWith("src/") || f === "README.md")) {
        for (const m of prose(step.dir + f).matchAll(named)) {
          const num = Number(m[1] ?? m[4]);
          const fn = m[2] ?? m[3]!;
          const owner = steps.find((s) => s.num === num);
          if (owner === undefined) continue; // "names no step that does not exist" says so.
          const has = sources(owner).some((g) =>
            new RegExp(`\\b${fn}\\b`).test(readFileSync(owner.dir + g, "utf8")),
          );
          if (!has) bad.push(`${f}: ${m[0]}`);
        }
      }
      expect(bad).toEqual([]);
    },
  );

  it.each(steps.slice(1).map((s) => ({ step: s, name: s.name })))(
    '$name says "New in this step" only in files it changes',
    ({ step }) => {
      const stale = filesOf(step.dir).filter(
        (f) =>
          !step.changes.includes(f) && /new in this step/i.test(readFileSync(step.dir + f, "utf8")),
      );
      expect(stale).toEqual([]);
    },
  );
});

/* ============================ Import cycles =============================== */

// `import ... from "./x.ts"` and `export ... from "./x.ts"`, relative only;
// group 1 is "type " for `import type`, group 2 the names or namespace.
const IMPORT =
  /^\s*(?:import|export)\s+(type\s+)?(\{[^}]*\}|\*\s+as\s+\w+|\w+(?:\s*,\s*\{[^}]*\})?)?\s*(?:from\s+)?["'](\.[^"']+)["']/gm;

// Each source file of `src` -> the files it imports at run time.
function runtimeImports(src: string): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const f of filesOf(src).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
    const text = readFileSync(src + f, "utf8");
    const deps: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      if (m[1] !== undefined) continue; // import type { ... }
      const names = m[2] ?? "";
      if (names.startsWith("{")) {
        const list = names
          .slice(1, -1)
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
        if (list.length > 0 && list.every((s) => s.startsWith("type "))) continue;
      }
      const target = normalize(join(dirname(f), m[3]!));
      deps.push(target.endsWith(".ts") ? target : `${target}.ts`);
    }
    edges.set(f, deps);
  }
  return edges;
}

// The cycles of a graph, each as the path that closes it ("a -> b -> a").
function findCycles(edges: Map<string, string[]>): string[] {
  const done = new Set<string>();
  const path: string[] = [];
  const found: string[] = [];
  const visit = (v: string): void => {
    const at = path.indexOf(v);
    if (at !== -1) {
      found.push([...path.slice(at), v].join(" -> "));
      return;
    }
    if (done.has(v) || !edges.has(v)) return;
    path.push(v);
    for (const w of edges.get(v)!) visit(w);
    path.pop();
    done.add(v);
  };
  for (const v of [...edges.keys()].sort()) visit(v);
  return found;
}

describe("imports", () => {
  it.each(steps.map((s) => ({ step: s, name: s.name })))(
    "$name has no import cycle in src/",
    ({ step }) => {
      expect(findCycles(runtimeImports(`${step.dir}src/`))).toEqual([]);
    },
  );

  it("sees a cycle when there is one", () => {
    const edges = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
    ]);
    expect(findCycles(edges)).toEqual(["a.ts -> b.ts -> c.ts -> a.ts"]);
  });
});
