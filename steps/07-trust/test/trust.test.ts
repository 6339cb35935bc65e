// trust.test.ts -- a sealed line opens once, recently, for the one it was sealed for.
//
// Keys, the cipher and the line limit are step 06's (encryption.test.ts runs
// here too); this file is what step 07 seals on top: sessions, sequence
// numbers, times and the recipient. scrypt is slow on purpose (~1 s), so
// the passphrase is derived once at the top of the file. Time is a
// parameter of every box here (`now`), so a test can seal a line "ten
// minutes ago" without waiting ten minutes.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";

// Since step 07: runs against step 07 and every later step of its track.
for (const step of corpusSteps(7)) {
  describe(step.name, async () => {
    const {
      createSecretBox,
      deriveMasterKey,
      MAX_LINE_BYTES,
      MessageTooLongError,
      maxTextBytes,
      ReplayGuard,
      STALE_AFTER_MS,
    } = (await import(`${step.dir}src/encryption.ts`)) as typeof import("../src/encryption.ts");
    const SALT = Buffer.from("000102030405060708090a0b0c0d0e0f", "hex");
    const PASSPHRASE = "a long passphrase that nobody will guess";
    const master = deriveMasterKey(PASSPHRASE, SALT);

    // The line as the client sends it: what the server's limit counts.
    function sentBytes(line: string, prefix = ""): number {
      return Buffer.byteLength(prefix + line, "utf8");
    }

    describe("known answers (change these only on purpose, with a new wire version)", () => {
      it("opens a line sealed by an earlier build", () => {
        const line =
          "~sc1 MGz6rADAr5Vyrvh8zSIquBYC9qrh3lGBwwwB3zSLG03fUnokxNkjaFhuHGr3FZBnkM2OXA/9Z120NV+w4FrfoFhyM+0iefPZ5txpkg==";
        const sealedAt = 1_800_000_000_000;
        expect(createSecretBox(master, { now: () => sealedAt + 1000 }).open(line, "alice")).toEqual(
          {
            kind: "verified",
            nick: "alice",
            text: "hello, 世界 ✓",
            nickMismatch: false,
            missing: 0,
            late: false,
          },
        );
      });
    });

    describe("replays and relabeling", () => {
      it("round-trips with nothing missing and nothing late", () => {
        const alice = createSecretBox(master);
        const bob = createSecretBox(master);
        for (const text of ["hi", "", "a\u00e9\u4e16\u{1f600}"]) {
          expect(bob.open(alice.seal("alice", text), "alice")).toEqual({
            kind: "verified",
            nick: "alice",
            text,
            nickMismatch: false,
            missing: 0,
            late: false,
          });
        }
      });

      it("opens a line once; the same line again is a replay", () => {
        const alice = createSecretBox(master);
        const bob = createSecretBox(master);
        const line = alice.seal("alice", "transfer approved");
        expect(bob.open(line, "alice").kind).toBe("verified");
        expect(bob.open(line, "alice")).toEqual({ kind: "replay" });
      });

      it("reports a gap, lets the missing line in late once, and refuses it twice", () => {
        const alice = createSecretBox(master);
        const bob = createSecretBox(master);
        const [one, two, three, four] = ["1", "2", "3", "4"].map((t) => alice.seal("alice", t));
        expect(bob.open(one ?? "", "alice")).toMatchObject({ kind: "verified", missing: 0 });
        expect(bob.open(four ?? "", "alice")).toMatchObject({ kind: "verified", missing: 2 });
        expect(bob.open(two ?? "", "alice")).toMatchObject({ kind: "verified", late: true });
        expect(bob.open(two ?? "", "alice")).toEqual({ kind: "replay" });
        expect(bob.open(three ?? "", "alice")).toMatchObject({ kind: "verified", late: true });
      });

      it("refuses a stale line, and one from the future", () => {
        const t = 1_800_000_000_000;
        const past = createSecretBox(master, { now: () => t - STALE_AFTER_MS - 1 }).seal(
          "alice",
          "old",
        );
        const future = createSecretBox(master, { now: () => t + STALE_AFTER_MS + 1 }).seal(
          "alice",
          "?",
        );
        const bob = createSecretBox(master, { now: () => t });
        expect(bob.open(past, "alice")).toMatchObject({ kind: "stale" });
        expect(bob.open(future, "alice")).toMatchObject({ kind: "stale" });
      });

      it("refuses a line of a sender's earlier run once a later run was heard", () => {
        let t = 1_800_000_000_000;
        const now = () => t;
        const firstRun = createSecretBox(master, { now });
        const old = firstRun.seal("alice", "pay mallory");
        t += 1000;
        const secondRun = createSecretBox(master, { now });
        const bob = createSecretBox(master, { now });
        expect(bob.open(secondRun.seal("alice", "hello again"), "alice").kind).toBe("verified");
        expect(bob.open(old, "alice")).toEqual({ kind: "old-session", nick: "alice" });
      });

      it("catches a private line delivered to someone it was not sealed for", () => {
        const line = createSecretBox(master).seal("alice", "for bob", { to: "bob" });
        expect(createSecretBox(master).open(line, "alice", "carol")).toEqual({
          kind: "misdelivered",
          nick: "alice",
          to: "bob",
        });
        expect(createSecretBox(master).open(line, "alice", "bob").kind).toBe("verified");
        expect(createSecretBox(master).open(line, "alice").kind).toBe("misdelivered");
      });

      it("forgets by time: a session heard from long ago is gone, and its lines are stale", () => {
        let t = 1_800_000_000_000;
        const now = () => t;
        const replays = new ReplayGuard({ now });
        const bob = createSecretBox(master, { now, replays });
        const line = createSecretBox(master, { now }).seal("alice", "hi");
        expect(bob.open(line, "alice").kind).toBe("verified");
        expect(replays.size).toBe(1);
        t += STALE_AFTER_MS + 1;
        expect(bob.open(line, "alice")).toMatchObject({ kind: "stale" });
        expect(replays.size).toBe(0);
      });

      it("cannot be flushed: a session pushed out by others still cannot be replayed", () => {
        let t = 1_800_000_000_000;
        const now = () => t++;
        const replays = new ReplayGuard({ now, maxSessions: 3 });
        const bob = createSecretBox(master, { now, replays });
        const old = createSecretBox(master, { now }).seal("u0", "first");
        expect(bob.open(old, "u0").kind).toBe("verified");
        for (const nick of ["u1", "u2", "u3", "u4"]) {
          const line = createSecretBox(master, { now }).seal(nick, "hi");
          expect(bob.open(line, nick).kind).toBe("verified");
        }
        expect(replays.size).toBe(3);
        expect(bob.open(old, "u0")).toEqual({ kind: "replay" });
      });

      it("shares one memory between boxes, so a new box (a made-up channel) flushes nothing", () => {
        const replays = new ReplayGuard();
        const line = createSecretBox(master).seal("alice", "once");
        expect(createSecretBox(master, { replays }).open(line, "alice").kind).toBe("verified");
        for (let i = 0; i < 100; i++) createSecretBox(master, { context: `#x${i}`, replays });
        expect(createSecretBox(master, { replays }).open(line, "alice")).toEqual({
          kind: "replay",
        });
      });
    });

    describe("size limit", () => {
      it("counts the /msg prefix and the sealed recipient: the line sent fits whole", () => {
        const alice = createSecretBox(master);
        const to = "b".repeat(32);
        const prefix = `/msg ${to} `;
        const limit = maxTextBytes("alice", { to, prefix });
        expect(limit).toBeLessThan(maxTextBytes("alice") - 32);
        const line = alice.seal("alice", "x".repeat(limit), { to, prefix });
        expect(sentBytes(line, prefix)).toBeLessThanOrEqual(MAX_LINE_BYTES);
        expect(() => alice.seal("alice", "x".repeat(limit + 1), { to, prefix })).toThrow(
          MessageTooLongError,
        );
      });
    });
  });
}
