// redis-diff-suite.ts -- the differential test's body, for a range of steps.
//
// Each family in test/diff/ runs on every Redis step from its `since` on
// (a case may name a later `since` of its own):
// the same conversation goes to a private redis-server and to the step's
// server, and the transcripts must be equal (after the normalisation a
// documented exception asks for). A new family is a new file in test/diff/.
//
// Every step has its own redis-server and server, so steps are independent:
// the steps are shared out among a few test files (redis-diff*.test.ts),
// which vitest runs side by side, instead of one file that runs every step
// one after the other.

import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { testSteps } from "./corpus.ts";
import { serverForAllTests } from "./harness.ts";
import { redisForAllTests } from "./redis.ts";
import { type Family, runCase } from "./redis-diff.ts";

async function loadFamilies(): Promise<Family[]> {
  const dir = new URL("../diff/", import.meta.url);
  const families: Family[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .sort()) {
    families.push(((await import(new URL(file, dir).href)) as { family: Family }).family);
  }
  return families;
}

// The Redis steps from `first` to `last` (inclusive) against redis-server.
// testSteps: every step, or only the one `npm test -- --step NN` names.
export async function diffSteps(first: number, last = Number.POSITIVE_INFINITY): Promise<void> {
  const families = await loadFamilies();
  const steps = testSteps().filter((s) => s.track === "redis" && s.num >= first && s.num <= last);
  for (const step of steps) {
    describe(step.name, () => {
      const redis = redisForAllTests();
      const server = serverForAllTests(step.server);
      for (const family of families.filter((f) => f.since <= step.num)) {
        describe(family.name, () => {
          for (const c of family.cases.filter((c) => (c.since ?? family.since) <= step.num)) {
            it(c.name, async () => {
              const norm = c.except?.normalize ?? ((t: string[]) => t);
              // Side by side: each server has its own connections, and a case
              // mostly waits on round trips (and on its `wait`s).
              const [theirs, ours] = await Promise.all([
                runCase(redis().port, c),
                runCase(server().port, c),
              ]);
              expect(norm(ours)).toEqual(norm(theirs));
            });
          }
        });
      }
    });
  }
}
