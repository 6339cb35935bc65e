// encryption.test.ts -- sealed lines open for key holders only, once, and never crash a reader.
//
// scrypt is slow on purpose (~1 s), so the passphrase is derived once at
// the top of the file and every box is built from the master key. Time is
// a parameter of every box here (`now`), so a test can seal a line "ten
// minutes ago" without waiting ten minutes.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import type { OpenResult } from "../src/encryption.ts";

// Since step 06: runs against step 06 and every later step of its track.
for (const step of corpusSteps(7)) {
  describe(step.name, async () => {
    const {
      createSecretBox,
      DEFAULT_CONTEXT,
      deriveMasterKey,
      KeyFormatError,
      MAX_LINE_BYTES,
      MessageTooLongError,
      masterKeyFrom,
      maxTextBytes,
      newKey,
      newSalt,
      parseKey,
      ReplayGuard,
      SCRYPT_COST,
      STALE_AFTER_MS,
    } = (await import(`${step.dir}src/encryption.ts`)) as typeof import("../src/encryption.ts");
    const SALT = Buffer.from("000102030405060708090a0b0c0d0e0f", "hex");
    const PASSPHRASE = "a long passphrase that nobody will guess";
    const master = deriveMasterKey(PASSPHRASE, SALT);
    const otherMaster = masterKeyFrom(newKey());

    // The line as the client sends it: what the server's limit counts.
    function sentBytes(line: string, prefix = ""): number {
      return Buffer.byteLength(prefix + line, "utf8");
    }

    describe("known answers (change these only on purpose, with a new wire version)", () => {
      // Checked against Python's hashlib.scrypt and an HMAC-SHA256 HKDF.
      it("derives the same keys from the same passphrase and salt, forever", () => {
        expect(master.channelKey(DEFAULT_CONTEXT).toString("hex")).toBe(
          "c772540e746df98521ca5d389cdaa736a719f97d1a84e49c78feddfc9adce23b",
        );
        expect(master.channelKey("#rust").toString("hex")).toBe(
          "e521b46e310a4c67ff6ccff409a381bf5eaa1a04abfb7b4de5ba02409c7e70ff",
        );
        const key = `scp1.${SALT.toString("base64url")}.${PASSPHRASE}`;
        expect(masterKeyFrom(key).channelKey().equals(master.channelKey())).toBe(true);
      });

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

    describe("keys", () => {
      it("stretches a passphrase with scrypt at N = 2^17 or more", () => {
        expect(SCRYPT_COST.N).toBeGreaterThanOrEqual(2 ** 17);
      });

      it("gives each salt its own key: one guess list cannot serve every group", () => {
        const otherSalt = Buffer.from(SALT).fill(7);
        const other = deriveMasterKey(PASSPHRASE, otherSalt);
        expect(other.channelKey().equals(master.channelKey())).toBe(false);
      });

      it("reads back a random key and a salt from --new-key and --new-salt", () => {
        const key = newKey();
        expect(key).toMatch(/^sck1\.[A-Za-z0-9_-]{43}$/);
        expect(parseKey(key)).toMatchObject({ kind: "random" });
        const a = masterKeyFrom(key);
        const line = createSecretBox(a).seal("alice", "random keys work");
        expect(createSecretBox(masterKeyFrom(key)).open(line, "alice").kind).toBe("verified");
        expect(parseKey(`${newSalt()}words words`)).toMatchObject({
          kind: "passphrase",
          passphrase: "words words",
        });
        expect(newKey()).not.toBe(key);
      });

      it("refuses a bare passphrase, a bad salt and a bad key, saying what a key looks like", () => {
        for (const bad of ["hunter2", "scp1.short.pass", `${newSalt()}`, "sck1.AAAA", "sck1."]) {
          expect(() => parseKey(bad), bad).toThrow(KeyFormatError);
        }
        expect(() => parseKey("hunter2")).toThrow(/--new-key/);
      });

      it("uses a channel name byte for byte, as the server does", () => {
        const composed = "#caf\u00e9";
        const decomposed = "#cafe\u0301";
        expect(master.channelKey(composed).equals(master.channelKey(decomposed))).toBe(false);
      });
    });

    describe("seal and open", () => {
      it("round-trips between two boxes with the same passphrase", () => {
        const alice = createSecretBox(master);
        const bob = createSecretBox(master);
        for (const text of ["hi", "", "a\u00e9\u4e16\u{1f600}", "x".repeat(1000)]) {
          const line = alice.seal("alice", text);
          expect(line).toMatch(/^~sc1 [A-Za-z0-9+/]+={0,2}$/);
          expect(bob.open(line, "alice")).toEqual({
            kind: "verified",
            nick: "alice",
            text,
            nickMismatch: false,
            missing: 0,
            late: false,
          });
        }
      });

      it("starts every line with a fresh nonce", () => {
        const alice = createSecretBox(master);
        const nonces = new Set<string>();
        for (let i = 0; i < 100; i++) {
          const raw = Buffer.from(alice.seal("alice", "same").slice("~sc1 ".length), "base64");
          nonces.add(raw.subarray(0, 12).toString("hex"));
        }
        expect(nonces.size).toBe(100);
      });

      it("cannot be read with another key", () => {
        const line = createSecretBox(master).seal("alice", "secret");
        expect(createSecretBox(otherMaster).open(line, "alice")).toEqual({
          kind: "unauthenticated",
        });
      });

      it("cannot be read with another channel's key", () => {
        const line = createSecretBox(master, { context: "#a" }).seal("alice", "for #a only");
        expect(createSecretBox(master, { context: "#b" }).open(line, "alice").kind).toBe(
          "unauthenticated",
        );
        expect(createSecretBox(master, { context: "#a" }).open(line, "alice").kind).toBe(
          "verified",
        );
        expect(master.channelKey("#a").equals(master.channelKey("#b"))).toBe(false);
      });

      it("rejects any flipped bit of nonce, ciphertext or tag", () => {
        const line = createSecretBox(master).seal("alice", "pay bob 10 euros");
        const raw = Buffer.from(line.slice("~sc1 ".length), "base64");
        for (let i = 0; i < raw.length; i++) {
          const bad = Buffer.from(raw);
          bad[i] = (bad[i] ?? 0) ^ 0x01;
          const result = createSecretBox(master).open(`~sc1 ${bad.toString("base64")}`, "alice");
          expect(result, `byte ${i}`).toEqual({ kind: "unauthenticated" });
        }
      });

      it("rejects a line relabeled with another version", () => {
        const line = createSecretBox(master).seal("alice", "hi");
        const relabeled = line.replace(/^~sc1 /, "~sc2 ");
        expect(createSecretBox(master).open(relabeled, "alice")).toEqual({
          kind: "unknown-version",
          version: "sc2",
        });
      });
    });

    describe("replays and relabeling", () => {
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

      it("flags a line whose server-added nick differs from the sealed one", () => {
        const line = createSecretBox(master).seal("alice", "it's me");
        expect(createSecretBox(master).open(line, "mallory")).toMatchObject({
          kind: "verified",
          nick: "alice",
          text: "it's me",
          nickMismatch: true,
        });
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
      it("exactly the largest text fits the line limit; one byte more throws", () => {
        const alice = createSecretBox(master);
        const bob = createSecretBox(master);
        const limit = maxTextBytes("alice");
        expect(limit).toBeGreaterThan(2900);

        const line = alice.seal("alice", "x".repeat(limit));
        expect(sentBytes(line)).toBeLessThanOrEqual(MAX_LINE_BYTES);
        expect(sentBytes(line)).toBeGreaterThan(MAX_LINE_BYTES - 4);
        expect(bob.open(line, "alice")).toMatchObject({
          kind: "verified",
          text: "x".repeat(limit),
        });

        const tooLong = () => alice.seal("alice", "x".repeat(limit + 1));
        expect(tooLong).toThrow(MessageTooLongError);
        expect(tooLong).toThrow(
          expect.objectContaining({ textBytes: limit + 1, maxTextBytes: limit }),
        );
      });

      it("counts bytes, not characters, and honours a custom line limit", () => {
        const alice = createSecretBox(master);
        const maxLineBytes = 512;
        const limit = maxTextBytes("zoë", { maxLineBytes });
        const fits = "\u4e16".repeat(Math.floor(limit / 3)); // 3 UTF-8 bytes each
        const line = alice.seal("zoë", fits, { maxLineBytes });
        expect(sentBytes(line)).toBeLessThanOrEqual(maxLineBytes);
        expect(() => alice.seal("zoë", `${fits}\u4e16`, { maxLineBytes })).toThrow(
          MessageTooLongError,
        );
      });

      it("a longer nick leaves less room for text", () => {
        expect(maxTextBytes("a".repeat(20))).toBe(maxTextBytes("a") - 19);
      });

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

      it("throws the typed error even when nothing at all fits", () => {
        expect(() => createSecretBox(master).seal("alice", "", { maxLineBytes: 40 })).toThrow(
          MessageTooLongError,
        );
      });
    });

    describe("open() never throws", () => {
      const KINDS = [
        "verified",
        "replay",
        "stale",
        "old-session",
        "misdelivered",
        "unauthenticated",
        "unknown-version",
        "plain",
      ];

      function openQuietly(line: string): OpenResult {
        const result = createSecretBox(master).open(line, "alice");
        expect(KINDS).toContain(result.kind);
        return result;
      }

      it("calls server notices and ordinary text plain", () => {
        for (const line of ["", "Welcome to Simple Chat!", "~sc", "~sc1", "~scx hi", " ~sc1 abc"]) {
          expect(openQuietly(line)).toEqual({ kind: "plain" });
        }
        expect(openQuietly("~sc99 whatever")).toEqual({ kind: "unknown-version", version: "sc99" });
      });

      it("survives garbage, truncation and mutation without verifying any of it", () => {
        const good = createSecretBox(master).seal("alice", "the real message!");
        const inputs = [
          "~sc1 ",
          "~sc1 ====",
          "~sc1 !!!!",
          "~sc1 \u0000\uffff\ud800",
          `~sc1 ${"A".repeat(200_000)}`,
          `~sc1 ${Buffer.alloc(40).toString("base64")}`,
          `${good} `,
          `${good}==`,
          good.replace(/=+$/, ""),
        ];
        for (let n = 0; n < good.length; n++) inputs.push(good.slice(0, n));
        for (let i = 5; i < good.length; i += 7) {
          for (const c of ["A", "/", "=", "*", "é"]) {
            if (good[i] !== c) inputs.push(good.slice(0, i) + c + good.slice(i + 1));
          }
        }
        for (const line of inputs.filter((l) => l !== good)) {
          expect(openQuietly(line).kind, JSON.stringify(line.slice(0, 60))).not.toBe("verified");
        }
        expect(openQuietly(good).kind).toBe("verified");
        expect(openQuietly(`${good}\r\n`).kind).toBe("verified");
      });
    });
  });
}
