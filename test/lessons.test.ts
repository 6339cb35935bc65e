// lessons.test.ts -- `npm run diff -- NN` shows a step's lesson; `npm run carry` copies a fix forward.
//
// The diff runs on the real steps (the first step of the Redis track is the
// interesting one: a new program grown out of the chat). The carry runs on
// a throwaway tree of three fake steps, so the test never writes into the
// real ones.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { carry } from "./src/lessons.ts";
import { listSteps, ROOT, type Step } from "./src/steps.ts";

const run = (bin: string, args: string[], cwd = ROOT) =>
  spawnSync(process.execPath, ["--import", "tsx", `${ROOT}test/bin/${bin}.ts`, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, INIT_CWD: cwd },
  });

// The files a diff shows, from its "+++" lines, as paths inside the step.
const shown = (out: string) => [...out.matchAll(/^\+\+\+ steps\/[^/]+\/(.*)$/gm)].map((m) => m[1]);

describe("npm run diff -- NN", () => {
  const steps = listSteps();
  const first = steps.findIndex((s) => s.track === "redis");

  it("shows the first Redis step's files against their chat ancestors, and deletions by name", () => {
    const [prev, step] = [steps[first - 1]!, steps[first]!];
    const out = run("diff", [String(step.num)]);
    expect(out.status).toBe(0);
    const kept = step.changes.filter((f) => readable(step.dir + f));
    expect(shown(out.stdout)).toEqual(kept);
    // server.ts against the chat's server.ts, not against nothing.
    expect(out.stdout).toContain(
      `--- steps/${prev.name}/src/server.ts\n+++ steps/${step.name}/src/server.ts`,
    );
    // poller.ts is the same file in both: not in the lesson, not shown.
    expect(step.changes).not.toContain("src/poller.ts");
    expect(shown(out.stdout)).not.toContain("src/poller.ts");
    // A deleted file is one line, none of its text.
    const deleted = step.changes.filter((f) => !readable(step.dir + f));
    expect(deleted).toContain("src/client.ts");
    for (const f of deleted) expect(out.stdout).toContain(`deleted: steps/${prev.name}/${f}\n`);
    expect(out.stdout).not.toContain(`--- steps/${prev.name}/src/client.ts`);
    expect(out.stdout).not.toContain("+++ /dev/null");
  });

  it("still compares two folders whole, and names a step that does not exist", () => {
    const [a, b] = [steps[first]!, steps[first + 1]!];
    const whole = run("diff", [String(a.num), String(b.num)]);
    expect(whole.status).toBe(0);
    expect(whole.stdout).toMatch(new RegExp(`^diff -ruN .* steps/${a.name}/src/server.ts`, "m"));
    const missing = run("diff", ["99"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^no such step: 99\nusage: npm run diff/);
  });
});

function readable(file: string): boolean {
  try {
    readFileSync(file);
    return true;
  } catch {
    return false;
  }
}

describe("npm run carry", () => {
  const root = mkdtempSync(`${tmpdir()}/carry-`);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  // Four fake steps: 02 and 03 do not list src/x.ts, 04 does, 05 does not.
  const fake = (num: number, changes: string[]): Step => {
    const name = `0${num}-s${num}`;
    const dir = `${root}/steps/${name}/`;
    mkdirSync(`${dir}src`, { recursive: true });
    writeFileSync(`${dir}src/x.ts`, num === 4 ? "its own\n" : "old\n");
    return { num, name, dir, server: "", client: null, changes, track: "chat" };
  };
  const steps = [fake(1, []), fake(2, []), fake(3, []), fake(4, ["src/x.ts"]), fake(5, [])];

  it("copies to each later step until one that lists the file, and stops there", () => {
    writeFileSync(`${steps[0]!.dir}src/x.ts`, "fixed\n");
    writeFileSync(`${steps[2]!.dir}src/x.ts`, "fixed\n"); // Already carried by hand.
    expect(carry(steps, steps[0]!, "src/x.ts")).toEqual({
      copied: ["02-s2"],
      same: ["03-s3"],
      stoppedAt: "04-s4",
    });
    const text = (i: number) => readFileSync(`${steps[i]!.dir}src/x.ts`, "utf8");
    expect([text(1), text(2), text(3), text(4)]).toEqual([
      "fixed\n",
      "fixed\n",
      "its own\n",
      "old\n",
    ]);
  });

  it("as a script: says which steps got the file and where it stopped", () => {
    const real = listSteps();
    // Step 01's server.ts, as it is: step 02 rewrites it, so nothing to copy.
    const out = run("carry", [`steps/${real[0]!.name}/src/server.ts`]);
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^steps\/01-[^ ]+\/src\/server.ts copied to: none\n/);
    expect(out.stdout).toMatch(/stopped at 02-/);
    const bad = run("carry", ["README.md"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^not a file in a step folder: README.md\nusage: npm run carry/);
    const relative = run("carry", ["src/server.ts"], `${real[0]!.dir}`);
    expect(relative.stdout).toMatch(/copied to: none/);
  });
});

// The step table in the root README is the tutorial's table of contents:
// one row per step, in order, each with the source lines its lesson adds
// (the "+" lines of `diff -ruN` of the two src/ folders, tests left out,
// as the house's lesson-size tool counts them), so a reader sees how long
// a sitting is, and a lesson that grows past one is seen at once.
describe("the root README's step table", () => {
  const steps = listSteps();
  const readme = readFileSync(`${ROOT}README.md`, "utf8");
  const rows = [...readme.matchAll(/^\| \[(\d\d) [^\]]*\]\(steps\/([^/]+)\/\) \| ([\d,]+|—) \|/gm)];

  it("has one row per step, in order, linking its folder", () => {
    expect(rows.map((r) => r[2])).toEqual(steps.map((s) => s.name));
    for (const r of rows) expect(r[2]!.startsWith(r[1]!)).toBe(true);
  });

  it("states the source lines each lesson adds", () => {
    const added = (prev: Step, step: Step): number => {
      const out = spawnSync(
        "diff",
        ["-ruN", "-x", "*.test.ts", `${prev.dir}src`, `${step.dir}src`],
        {
          encoding: "utf8",
          maxBuffer: 64 * 1024 * 1024,
        },
      ).stdout;
      return out.split("\n").filter((l) => l.startsWith("+") && !l.startsWith("+++")).length;
    };
    const want = steps.map((s, i) =>
      i === 0 ? "—" : added(steps[i - 1]!, s).toLocaleString("en-US"),
    );
    expect(rows.map((r) => r[3])).toEqual(want);
  });
});
