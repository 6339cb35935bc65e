// fanout.test.ts -- the benchmark still measures: one tiny cell, for real.
//
// Not a performance test (a busy CI machine must not fail it): it checks
// that the load reaches a server, that deliveries are counted, and that a
// step that loses nothing shows zero loss. A broken marker parser, a wrong
// expected count or a load that stops too early all fail it.

import { describe, expect, it } from "vitest";
import { redisInstalled } from "../src/redis.ts";
import { DEFAULTS, EVERYONE, type Options, runBenchmark } from "./fanout.ts";

const tiny: Options = {
  ...DEFAULTS,
  steps: ["02"],
  clients: [5],
  modes: ["rate"],
  seconds: 1,
  warmup: 0.3,
  rates: [4000],
};

describe("fan-out benchmark", () => {
  it("measures step 02 at a fixed rate with zero loss", async () => {
    const run = await runBenchmark(tiny);
    expect(run.results).toHaveLength(1);
    const r = run.results[0]!;
    expect(r.error).toBeUndefined();
    expect(r.sent).toBeGreaterThan(0);
    expect(r.expected).toBe(r.sent * 4); // 5 clients: every line reaches 4.
    expect(r.loss).toBe(0);
    expect(r.delivered).toBeGreaterThan(0);
    expect(r.p99).toBeGreaterThan(0);
  });

  // The anchor of every report: the same load speaking RESP pub/sub to a
  // private redis-server. A short cell in each mode, so neither can rot.
  it.runIf(redisInstalled())("measures redis pub/sub as the baseline row", async () => {
    const run = await runBenchmark({ ...tiny, steps: ["redis"], modes: ["rate", "flat"] });
    expect(run.results).toHaveLength(2);
    for (const r of run.results) {
      expect(r.error).toBeUndefined();
      expect(r.step).toBe("redis");
      expect(r.sent).toBeGreaterThan(0);
      expect(r.expected).toBe(r.sent * 5); // Redis: the sender's subscriber hears it too.
      expect(r.loss).toBe(0);
      expect(r.delivered).toBeGreaterThan(0);
      expect(r.max).toBeGreaterThanOrEqual(r.p999);
      expect(r.p999).toBeGreaterThanOrEqual(r.p99);
    }
  });

  it("runs a scenario's setup lines and syncs before the load", async () => {
    // Step 03's unique nicks stand in for step 08's /join: a setup the
    // server must apply before the load starts.
    const run = await runBenchmark({
      ...tiny,
      steps: ["03"],
      modes: ["flat"],
      scenarios: [
        {
          name: "nicks",
          topology: { setup: (i) => [`/nick bench${i}`], group: EVERYONE.group },
          clients: null,
          modes: null,
          steps: null,
        },
      ],
    });
    const r = run.results[0]!;
    expect(r.error).toBeUndefined();
    expect(r.loss).toBe(0);
    expect(r.delivered).toBeGreaterThan(0);
  });

  // Step 09's two nodes relay every /join to every client, so a client may
  // read kilobytes of other clients' lines before its own barrier reply.
  // Here the setup lines themselves are chat lines of 90 bytes, eight per
  // client: the last client served reads about 3 KB of the others' before
  // its reply, which a sync that looked at only the first 512 bytes missed.
  it("finds the barrier reply behind kilobytes of other clients' setup", async () => {
    const run = await runBenchmark({
      ...tiny,
      steps: ["03"],
      modes: ["flat"],
      scenarios: [
        {
          name: "chatty setup",
          topology: {
            setup: (i) => [`/nick bench${i}`, ...Array(8).fill(`setup ${"x".repeat(80)}`)],
            group: EVERYONE.group,
          },
          clients: null,
          modes: null,
          steps: null,
        },
      ],
    });
    const r = run.results[0]!;
    expect(r.error).toBeUndefined();
    expect(r.loss).toBe(0);
    expect(r.delivered).toBeGreaterThan(0);
  });
});
