// db.test.ts -- the keyspace on its own: binary keys, types and WRONGTYPE,
// events, RENAME, FLUSH and KEYS.

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";
import type { Db, Key, KeyEvent, Value } from "../src/db.ts";

// Since step 15: runs against step 15 and every later step of its track.
for (const step of corpusSteps(15)) {
  describe(step.name, async () => {
    const { Db, fromKey, toKey, WrongTypeError } = (await import(
      `${step.dir}src/db.ts`
    )) as typeof import("../src/db.ts");
    const b = (s: string) => Buffer.from(s, "latin1");

    function recorder(db: Db) {
      const events: [KeyEvent, Key | null][] = [];
      db.onKeyEvent((event, key) => events.push([event, key]));
      return events;
    }

    describe("keys are bytes", () => {
      it("keeps keys that differ only in bytes UTF-8 would mangle apart", () => {
        const db = new Db();
        const keys = ["", "\0", "a\0b", "\r\n", "\xff", "\xfe", "caf\xc3\xa9", "caf\xe9"].map(b);
        for (const [i, k] of keys.entries()) db.setString(k, Buffer.from([i]));
        expect(db.size).toBe(keys.length);
        for (const [i, k] of keys.entries()) expect(db.get(k, "string")).toEqual(Buffer.from([i]));
        const listed = db.keys().map((k) => k.toString("hex"));
        expect(listed.sort()).toEqual(keys.map((k) => k.toString("hex")).sort());
      });

      it("converts every byte value to a key and back", () => {
        const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        expect(toKey(all)).toHaveLength(256);
        expect(fromKey(toKey(all))).toEqual(all);
      });
    });

    describe("values and types", () => {
      it("answers type, exists, lookup, and none for missing keys", () => {
        const db = new Db();
        expect(db.type(b("k"))).toBe("none");
        expect(db.lookup(b("k"))).toBeUndefined();
        db.setString(b("k"), b("v"));
        expect(db.type(b("k"))).toBe("string");
        expect(db.exists(b("k"))).toBe(true);
        expect(db.lookup(b("k"))).toMatchObject({ type: "string", value: b("v") });
      });

      it("throws Redis's WRONGTYPE text when a key holds another type", () => {
        const db = new Db();
        // Only strings exist in step 15: fake a list to see the check work.
        db.set(b("l"), { type: "list", value: [] } as unknown as Value);
        expect(() => db.get(b("l"), "string")).toThrow(WrongTypeError);
        expect(() => db.get(b("l"), "string")).toThrow(
          "WRONGTYPE Operation against a key holding the wrong kind of value",
        );
        expect(db.type(b("l"))).toBe("list");
      });

      it("deletes, and counts a missing key as not deleted", () => {
        const db = new Db();
        db.setString(b("k"), b("v"));
        expect(db.delete(b("k"))).toBe(true);
        expect(db.delete(b("k"))).toBe(false);
        expect(db.size).toBe(0);
      });
    });

    describe("rename and flush", () => {
      it("moves the value, replacing the destination", () => {
        const db = new Db();
        const events = recorder(db);
        db.setString(b("src"), b("v"));
        db.setString(b("dst"), b("old"));
        expect(db.rename(b("src"), b("dst"))).toBe(true);
        expect(db.exists(b("src"))).toBe(false);
        expect(db.get(b("dst"), "string")).toEqual(b("v"));
        expect(db.size).toBe(1);
        expect(events.slice(2)).toEqual([
          ["delete", "src"],
          ["write", "dst"],
        ]);
      });

      it("fails on a missing source and does nothing on itself", () => {
        const db = new Db();
        expect(db.rename(b("a"), b("a"))).toBe(false); // Redis: ERR no such key.
        db.setString(b("a"), b("v"));
        const events = recorder(db);
        expect(db.rename(b("a"), b("a"))).toBe(true); // Redis: OK.
        expect(db.get(b("a"), "string")).toEqual(b("v"));
        expect(events).toEqual([]);
      });

      it("announces a flush once, while the keys are still there", () => {
        const db = new Db();
        for (let i = 0; i < 100; i++) db.setString(b(`k${i}`), b("v"));
        const seen: boolean[] = [];
        db.onKeyEvent((event) => {
          if (event === "flush") seen.push(db.exists(b("k7")));
        });
        db.flush();
        expect(seen).toEqual([true]);
        expect([db.size, db.keys().length]).toEqual([0, 0]);
        db.setString(b("after"), b("v"));
        expect(db.keys()).toEqual([b("after")]);
      });

      it("announces in-place changes and overwrites as writes", () => {
        const db = new Db();
        const events = recorder(db);
        db.modified(b("k"));
        db.setString(b("k"), b("1"));
        db.setString(b("k"), b("2"));
        expect(events).toEqual([
          ["write", "k"],
          ["write", "k"],
          ["write", "k"],
        ]);
      });

      it("unregisters a listener", () => {
        const db = new Db();
        const events: KeyEvent[] = [];
        const off = db.onKeyEvent((e) => events.push(e));
        db.setString(b("a"), b("1"));
        off();
        db.setString(b("a"), b("2"));
        expect(events).toEqual(["write"]);
      });
    });
    describe("databases", () => {
      it("swaps every key with another database, which keeps its number", () => {
        const zero = new Db({ id: 0 });
        const one = new Db({ id: 1 });
        zero.setString(b("a"), b("zero"));
        one.setString(b("b"), b("one"));
        const events = recorder(zero);
        zero.swapWith(one);
        expect([zero.id, one.id]).toEqual([0, 1]);
        expect(zero.keys()).toEqual([b("b")]);
        expect(one.get(b("a"), "string")).toEqual(b("zero"));
        expect(events).toEqual([
          ["flush", null],
          ["flush", null],
        ]);
      });
    });
  });
}
