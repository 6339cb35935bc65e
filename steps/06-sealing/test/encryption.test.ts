// encryption.test.ts -- sealed lines open for key holders only, and never crash a reader.
//
// scrypt is slow on purpose (~1 s), so the passphrase is derived once at
// the top of the file and every box is built from the master key. The wire
// version is read from the step (`WIRE_VERSION`): step 07 seals more and
// calls its format sc1, and these tests run against it too.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import type { OpenResult } from "../src/encryption.ts";

// Since step 06: runs against step 06 and every later step of its track.
for (const step of corpusSteps(6)) {
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
      SCRYPT_COST,
      WIRE_VERSION,
    } = (await import(`${step.dir}src/encryption.ts`)) as typeof import("../src/encryption.ts");
    const SALT = Buffer.from("000102030405060708090a0b0c0d0e0f", "hex");
    const PASSPHRASE = "a long passphrase that nobody will guess";
    const master = deriveMasterKey(PASSPHRASE, SALT);
    const otherMaster = masterKeyFrom(newKey());
    const MARKER = `~${WIRE_VERSION} `;

    // The line as the client sends it: what the server's limit counts.
    function sentBytes(line: string, prefix = ""): number {
      return Buffer.byteLength(prefix + line, "utf8");
    }

    describe("known answers (change these only on purpose)", () => {
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
        const line = createSecretBox(masterKeyFrom(key)).seal("alice", "random keys work");
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
          expect(line.startsWith(MARKER)).toBe(true);
          expect(line.slice(MARKER.length)).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
          expect(bob.open(line, "alice")).toMatchObject({
            kind: "verified",
            nick: "alice",
            text,
            nickMismatch: false,
          });
        }
      });

      it("starts every line with a fresh nonce", () => {
        const alice = createSecretBox(master);
        const nonces = new Set<string>();
        for (let i = 0; i < 100; i++) {
          const raw = Buffer.from(alice.seal("alice", "same").slice(MARKER.length), "base64");
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
        const raw = Buffer.from(line.slice(MARKER.length), "base64");
        for (let i = 0; i < raw.length; i++) {
          const bad = Buffer.from(raw);
          bad[i] = (bad[i] ?? 0) ^ 0x01;
          const result = createSecretBox(master).open(
            `${MARKER}${bad.toString("base64")}`,
            "alice",
          );
          expect(result, `byte ${i}`).toEqual({ kind: "unauthenticated" });
        }
      });

      it("rejects a line relabeled with another version", () => {
        const line = createSecretBox(master).seal("alice", "hi");
        const relabeled = `~sc99 ${line.slice(MARKER.length)}`;
        expect(createSecretBox(master).open(relabeled, "alice")).toEqual({
          kind: "unknown-version",
          version: "sc99",
        });
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

      it("counts the /msg prefix: the line sent fits whole", () => {
        const alice = createSecretBox(master);
        const prefix = `/msg ${"b".repeat(32)} `;
        const limit = maxTextBytes("alice", { prefix });
        expect(limit).toBeLessThan(maxTextBytes("alice") - 20);
        const line = alice.seal("alice", "x".repeat(limit), { prefix });
        expect(sentBytes(line, prefix)).toBeLessThanOrEqual(MAX_LINE_BYTES);
        expect(() => alice.seal("alice", "x".repeat(limit + 1), { prefix })).toThrow(
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
      // What a line that is not a key holder's can open to (step 07 adds
      // kinds, but only for lines that passed the tag).
      const KINDS = ["unauthenticated", "unknown-version", "plain"];

      function openQuietly(line: string): OpenResult["kind"] {
        return createSecretBox(master).open(line, "alice").kind;
      }

      it("calls server notices and ordinary text plain", () => {
        for (const line of ["", "Welcome to Simple Chat!", "~sc", "~sc1", "~scx hi", " ~sc1 abc"]) {
          expect(createSecretBox(master).open(line, "alice")).toEqual({ kind: "plain" });
        }
        expect(createSecretBox(master).open("~sc99 whatever", "alice")).toEqual({
          kind: "unknown-version",
          version: "sc99",
        });
      });

      it("survives garbage, truncation and mutation without verifying any of it", () => {
        const good = createSecretBox(master).seal("alice", "the real message!");
        const inputs = [
          MARKER,
          `${MARKER}====`,
          `${MARKER}!!!!`,
          `${MARKER}\u0000\uffff\ud800`,
          `${MARKER}${"A".repeat(200_000)}`,
          `${MARKER}${Buffer.alloc(40).toString("base64")}`,
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
          expect(KINDS, JSON.stringify(line.slice(0, 60))).toContain(openQuietly(line));
        }
        expect(openQuietly(good)).toBe("verified");
        expect(openQuietly(`${good}\r\n`)).toBe("verified");
      });
    });
  });
}
