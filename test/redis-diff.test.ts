// redis-diff.test.ts -- every Redis step against a real redis-server, byte for byte.
//
// Each family in test/diff/ runs on every Redis step from its `since` on:
// the same conversation goes to a private redis-server and to the step's
// server, and the transcripts must be equal (after the normalisation a
// documented exception asks for). A new family is a new file in test/diff/.

import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { testSteps } from "./src/corpus.ts";
import { serverForAllTests } from "./src/harness.ts";
import { redisForAllTests } from "./src/redis.ts";
import { type Family, runCase } from "./src/redis-diff.ts";

const dir = new URL("./diff/", import.meta.url);
const families: Family[] = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .sort()) {
  families.push(((await import(new URL(file, dir).href)) as { family: Family }).family);
}

// testSteps: every step, or only the one `npm test -- --step NN` names.
for (const step of testSteps().filter((s) => s.track === "redis")) {
  describe(step.name, () => {
    const redis = redisForAllTests();
    const server = serverForAllTests(step.server);
    for (const family of families.filter((f) => f.since <= step.num)) {
      describe(family.name, () => {
        for (const c of family.cases) {
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
