// encryption.test.ts -- sealed lines open for key holders only, once, and never crash a reader.
//
// scrypt is slow on purpose (~100 ms), so each passphrase is derived once
// at the top of the file and every box is built from the master key.

import { describe, expect, it } from "vitest";
import {
  createSecretBox,
  DEFAULT_CONTEXT,
  deriveKey,
  deriveMasterKey,
  MAX_LINE_BYTES,
  MessageTooLongError,
  maxTextBytes,
  NICK_ROOM_BYTES,
  type OpenResult,
} from "../src/encryption.ts";

const PASSPHRASE = "correct horse battery staple";
const master = deriveMasterKey(PASSPHRASE);
const otherMaster = deriveMasterKey("incorrect horse battery staple");

// What the server relays when a client sends `line`: the longest nick we
// keep room for, "> ", the line, "\n".
function relayedBytes(line: string): number {
  return NICK_ROOM_BYTES + 2 + Buffer.byteLength(line, "utf8") + 1;
}

describe("known answers (change these only on purpose, with a new wire version)", () => {
  it("derives the same keys from the same passphrase, forever", () => {
    expect(deriveKey(PASSPHRASE).toString("hex")).toBe(
      "a6db6f2f63903c8334d8e954445a7f09349689dc7aef2d652cd7b247cd5259de",
    );
    expect(master.channelKey(DEFAULT_CONTEXT).toString("hex")).toBe(
      "a6db6f2f63903c8334d8e954445a7f09349689dc7aef2d652cd7b247cd5259de",
    );
    expect(master.channelKey("#rust").toString("hex")).toBe(
      "471fb2c25a316d9e5c6643409a1ee8283b8d6d94adedefcbf7366aea41697659",
    );
  });

  it("opens a line sealed by an earlier build", () => {
    const line =
      "~sc1 miB7qcocZFe8IEx5RLr39shCCq0wcU0ryrQvC0Hd/0r+HmH3zTBXpJD9m1nEoihKb1s6vKl4Sg4PIP2JBdYW";
    expect(createSecretBox(master).open(line, "alice")).toEqual({
      kind: "verified",
      nick: "alice",
      text: "hello, 世界 ✓",
      nickMismatch: false,
    });
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

  it("cannot be read with another passphrase", () => {
    const line = createSecretBox(master).seal("alice", "secret");
    expect(createSecretBox(otherMaster).open(line, "alice")).toEqual({ kind: "unauthenticated" });
  });

  it("cannot be read with another channel's key", () => {
    const line = createSecretBox(master, { context: "#a" }).seal("alice", "for #a only");
    expect(createSecretBox(master, { context: "#b" }).open(line, "alice").kind).toBe(
      "unauthenticated",
    );
    expect(createSecretBox(master, { context: "#a" }).open(line, "alice").kind).toBe("verified");
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

  it("treats a line older than one already seen from that sender as a replay", () => {
    // Strictly increasing per session: one TCP stream never reorders, so
    // only a meddling server delivers the older line second.
    const alice = createSecretBox(master);
    const bob = createSecretBox(master);
    const first = alice.seal("alice", "one");
    const second = alice.seal("alice", "two");
    expect(bob.open(second, "alice").kind).toBe("verified");
    expect(bob.open(first, "alice")).toEqual({ kind: "replay" });
  });

  it("accepts a restarted sender, whose counter starts again in a new session", () => {
    const bob = createSecretBox(master);
    const before = createSecretBox(master).seal("alice", "before restart");
    const after = createSecretBox(master).seal("alice", "after restart");
    expect(bob.open(before, "alice").kind).toBe("verified");
    expect(bob.open(after, "alice").kind).toBe("verified");
  });

  it("flags a line whose server-added nick differs from the sealed one", () => {
    const line = createSecretBox(master).seal("alice", "it's me");
    expect(createSecretBox(master).open(line, "mallory")).toEqual({
      kind: "verified",
      nick: "alice",
      text: "it's me",
      nickMismatch: true,
    });
  });

  it("keeps at most maxSessions senders in memory, forgetting the least recent", () => {
    const sender = createSecretBox(master);
    const bob = createSecretBox(master, { maxSessions: 3 });
    const old = sender.seal("u0", "first");
    expect(bob.open(old, "u0").kind).toBe("verified");
    for (const nick of ["u1", "u2", "u3"]) {
      expect(bob.open(sender.seal(nick, "hi"), nick).kind).toBe("verified");
    }
    // u0 was evicted: the documented price of bounded memory.
    expect(bob.open(old, "u0").kind).toBe("verified");
  });
});

describe("size limit", () => {
  it("exactly the largest text fits the line limit; one byte more throws", () => {
    const alice = createSecretBox(master);
    const bob = createSecretBox(master);
    const limit = maxTextBytes("alice");
    expect(limit).toBeGreaterThan(2900);

    const line = alice.seal("alice", "x".repeat(limit));
    expect(relayedBytes(line)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(bob.open(line, "alice")).toMatchObject({ kind: "verified", text: "x".repeat(limit) });

    const tooLong = () => alice.seal("alice", "x".repeat(limit + 1));
    expect(tooLong).toThrow(MessageTooLongError);
    expect(tooLong).toThrow(expect.objectContaining({ textBytes: limit + 1, maxTextBytes: limit }));
  });

  it("counts bytes, not characters, and honours a custom line limit", () => {
    const alice = createSecretBox(master);
    const maxLineBytes = 512;
    const limit = maxTextBytes("zoë", maxLineBytes);
    const fits = "\u4e16".repeat(Math.floor(limit / 3)); // 3 UTF-8 bytes each
    const line = alice.seal("zoë", fits, { maxLineBytes });
    expect(relayedBytes(line)).toBeLessThanOrEqual(maxLineBytes);
    expect(() => alice.seal("zoë", `${fits}\u4e16`, { maxLineBytes })).toThrow(MessageTooLongError);
  });

  it("a longer nick leaves less room for text", () => {
    expect(maxTextBytes("a".repeat(20))).toBe(maxTextBytes("a") - 19);
  });

  it("throws the typed error even when nothing at all fits", () => {
    expect(() => createSecretBox(master).seal("alice", "", { maxLineBytes: 40 })).toThrow(
      MessageTooLongError,
    );
  });
});

describe("open() never throws", () => {
  const KINDS = ["verified", "replay", "unauthenticated", "unknown-version", "plain"];

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
    const good = createSecretBox(master).seal("alice", "the real message");
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
    for (const line of inputs) {
      expect(openQuietly(line).kind, JSON.stringify(line.slice(0, 60))).not.toBe("verified");
    }
    expect(openQuietly(good).kind).toBe("verified");
    expect(openQuietly(`${good}\r\n`).kind).toBe("verified");
  });
});
