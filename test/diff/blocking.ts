// blocking.ts -- the diff family of the blocking pops: BLPOP BRPOP BLMOVE BRPOPLPUSH that
// answer at once, their timeouts and errors, the blocking rules in scripted multi-client
// scenarios, and seeded-random list sequences with blocking pops in the draw.
//
// Every case starts with FLUSHALL. Blocking scenarios use the runner's
// `block` actions: the runner waits until the server counts the new
// blocked client, so clients block in the same order on both servers, and
// a parked connection's reply is read at its next action (a PING, which
// waits behind the blocked command on both). A timeout is checked the same
// way: a short BLPOP followed by the runner's own sync, which waits behind
// it until the nil reply.

import type { Action, Arg, DiffCase, Family } from "../src/redis-diff.ts";
import { randomCase } from "./lists.ts";

const INT64_MAX = "9223372036854775807";

const cmds = (...list: Arg[][]): Action[] => list.map((cmd) => ({ cmd }));
const on = (conn: number, ...cmd: Arg[]): Action => ({ conn, cmd });
const blockOn = (conn: number, ...cmd: Arg[]): Action => ({ conn, cmd, block: true });

const scripted: DiffCase[] = [
  {
    name: "WRONGTYPE and arities of the blocking pops",
    actions: cmds(
      ["SET", "s", "v"],
      ["RPUSH", "l", "a"],
      ["BLPOP", "s", "0"],
      ["BRPOP", "none", "s", "0"],
      ["BLPOP", "l", "s", "0"],
      ["BLMOVE", "s", "l", "LEFT", "LEFT", "0"],
      ["RPUSH", "l", "a"],
      ["BLMOVE", "l", "s", "LEFT", "LEFT", "0"],
      ["LRANGE", "l", "0", "-1"],
      ["TYPE", "s"],
      ["BLPOP", "k"],
      ["BRPOP"],
      ["BLMOVE", "a", "b", "LEFT", "LEFT"],
      ["BRPOPLPUSH", "a", "b"],
    ),
  },
  {
    name: "BLPOP that can answer at once: the first non-empty key in argument order",
    actions: cmds(
      ["RPUSH", "k2", "x", "y"],
      ["RPUSH", "k3", "z"],
      ["BLPOP", "k1", "k2", "k3", "0"],
      ["BRPOP", "k1", "k3", "k2", "0"],
      ["BLPOP", "k1", "k2", "0"],
      ["EXISTS", "k2", "k3"],
      ["RPUSH", "k3", "again"],
      ["BLPOP", "k3", "k3", "0"],
      ["RPUSH", "src", "a", "b"],
      ["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"],
      ["BRPOPLPUSH", "src", "dst", "0"],
      ["LRANGE", "dst", "0", "-1"],
    ),
  },
  {
    name: "blocking timeouts: fractions, rounding up, errors, the nil reply in RESP2 and RESP3",
    actions: cmds(
      ["BLPOP", "k", "0.01"],
      ["BRPOP", "k", "1e-10"],
      ["BLPOP", "k", ".02"],
      ["BLMOVE", "k", "d", "LEFT", "LEFT", "0.01"],
      ["BRPOPLPUSH", "k", "d", "0.01"],
      ["BLPOP", "k", "-1"],
      ["BLPOP", "k", "-0.5"],
      ["BLPOP", "k", "abc"],
      ["BLPOP", "k", ""],
      ["BLPOP", "k", "nan"],
      ["BLPOP", "k", "inf"],
      ["BLPOP", "k", "1e400"],
      ["BLPOP", "k", INT64_MAX],
      ["BLPOP", "k", " 1"],
      ["BLMOVE", "k", "d", "LEFT", "UP", "abc"],
      ["BLMOVE", "k", "d", "LEFT", "LEFT", "abc"],
      ["HELLO", "3"],
      ["BLPOP", "k", "0.01"],
      ["BLMOVE", "k", "d", "LEFT", "LEFT", "0.01"],
      ["LPOP", "k", "2"],
      ["LPOP", "k"],
      ["RPUSH", "k", "a"],
      ["BLPOP", "k", "0.01"],
    ),
    except: {
      why: "HELLO's reply carries the connection id and the server's version",
      normalize: (t) => t.filter((line) => !line.includes("proto")),
    },
  },
  {
    name: "RPUSH with three values and three waiters serves all three, in blocking order",
    actions: [
      blockOn(1, "BLPOP", "q", "0"),
      blockOn(2, "BLPOP", "q", "0"),
      blockOn(3, "BRPOP", "q", "0"),
      on(0, "RPUSH", "q", "a", "b", "c"),
      on(1, "PING"),
      on(2, "PING"),
      on(3, "PING"),
      on(0, "EXISTS", "q"),
    ],
  },
  {
    name: "LPUSH k a b c gives the first waiter c; the rest stay in the list",
    actions: [
      blockOn(1, "BLPOP", "k", "0"),
      on(0, "LPUSH", "k", "a", "b", "c"),
      on(1, "PING"),
      on(0, "LRANGE", "k", "0", "-1"),
    ],
  },
  {
    name: "more waiters than values: the rest wait for the next push",
    actions: [
      blockOn(1, "BLPOP", "k", "0"),
      blockOn(2, "BLPOP", "k", "0"),
      on(0, "RPUSH", "k", "one"),
      on(1, "PING"),
      on(0, "LPUSH", "k", "two", "three"),
      on(2, "PING"),
      on(0, "LRANGE", "k", "0", "-1"),
    ],
  },
  {
    name: "BLPOP k1 k2 wakes on whichever key gets data, and leaves the other queue",
    actions: [
      blockOn(1, "BLPOP", "k1", "k2", "0"),
      blockOn(2, "BLPOP", "k2", "0"),
      blockOn(3, "BLPOP", "k1", "0"),
      on(0, "RPUSH", "k2", "x"),
      on(1, "PING"),
      on(0, "RPUSH", "k1", "y"),
      on(3, "PING"),
      on(0, "RPUSH", "k2", "z"),
      on(2, "PING"),
      on(0, "EXISTS", "k1", "k2"),
    ],
  },
  {
    name: "a blocked client's pipelined commands wait until it is served",
    actions: [
      {
        conn: 1,
        raw: Buffer.from(
          "*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nk\r\n*2\r\n$4\r\nECHO\r\n$4\r\nlast\r\n",
        ),
        block: true,
      },
      on(0, "RPUSH", "k", "a", "b"),
      on(1, "PING"),
      on(0, "LRANGE", "k", "0", "-1"),
    ],
  },
  {
    name: "a timeout answers nil, and the pipelined commands behind it run",
    actions: [
      { conn: 1, raw: "*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$4\r\n0.05\r\n*1\r\n$4\r\nPING\r\n" },
      on(0, "RPUSH", "k", "late"),
      on(0, "LRANGE", "k", "0", "-1"),
    ],
  },
  {
    name: "BLMOVE serves the destination's waiters in turn",
    actions: [
      blockOn(1, "BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"),
      blockOn(2, "BRPOPLPUSH", "dst", "end", "0"),
      blockOn(3, "BLPOP", "end", "0"),
      on(0, "RPUSH", "src", "job"),
      on(1, "PING"),
      on(2, "PING"),
      on(3, "PING"),
      on(0, "EXISTS", "src", "dst", "end"),
    ],
  },
  {
    name: "BLMOVE from a list onto itself, and a waiter on a key that is written with a string",
    actions: [
      blockOn(1, "BLMOVE", "k", "k", "LEFT", "RIGHT", "0"),
      blockOn(2, "BLPOP", "k", "0"),
      on(0, "SET", "k", "string"),
      on(0, "DEL", "k"),
      on(0, "RPUSH", "k", "a", "b"),
      on(1, "PING"),
      on(2, "PING"),
      on(0, "LRANGE", "k", "0", "-1"),
    ],
  },
  {
    name: "a BLMOVE woken while its destination holds a string gets WRONGTYPE; nothing moves",
    actions: [
      blockOn(1, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0"),
      on(0, "SET", "dst", "string"),
      on(0, "RPUSH", "src", "x", "y"),
      on(1, "PING"),
      on(0, "LRANGE", "src", "0", "-1"),
      on(0, "GET", "dst"),
    ],
  },
  {
    name: "a waiter that disconnects is forgotten and swallows nothing",
    actions: [
      blockOn(1, "BLPOP", "k", "0"),
      blockOn(2, "BLPOP", "k", "0"),
      { conn: 1, close: true },
      on(0, "RPUSH", "k", "a", "b"),
      on(2, "PING"),
      on(0, "LRANGE", "k", "0", "-1"),
    ],
  },
  {
    name: "a served waiter is not answered again when its timeout passes",
    actions: [
      blockOn(1, "BLPOP", "k", "0.1"),
      on(0, "RPUSH", "k", "v"),
      on(1, "PING"),
      blockOn(1, "BLPOP", "other", "0"),
      on(0, "BLPOP", "never", "0.2"), // The old deadline passes meanwhile.
      on(0, "RPUSH", "other", "w"),
      on(1, "PING"),
    ],
  },
  {
    name: "a served client runs its next blocking command at once, or blocks again",
    actions: [
      {
        conn: 1,
        raw: Buffer.from(
          "*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n",
        ),
        block: true,
      },
      on(0, "RPUSH", "k", "a", "b"),
      on(0, "RPUSH", "k", "c"),
      on(1, "PING"),
      on(0, "EXISTS", "k"),
    ],
  },
];

// A waiter is served from its own database only (FLUSHALL at the end:
// later cases look at database 0 only, but they must find 3 empty too).
scripted.push({
  name: "blocking pops wait on a key of their own database",
  actions: [
    on(0, "SELECT", "3"),
    blockOn(0, "BLPOP", "q", "0"),
    on(1, "LPUSH", "q", "db0"),
    on(1, "LLEN", "q"),
    on(1, "SELECT", "3"),
    on(1, "LPUSH", "q", "db3"),
    on(0, "LLEN", "q"),
    on(1, "SELECT", "0"),
    on(1, "LRANGE", "q", "0", "-1"),
    { cmd: ["FLUSHALL"] },
  ],
});

scripted.push({
  name: "SWAPDB serves a waiter whose key the other database has",
  actions: [
    blockOn(0, "BLPOP", "q", "0"),
    on(1, "SELECT", "1"),
    on(1, "RPUSH", "q", "x", "y"),
    on(1, "SWAPDB", "0", "1"),
    on(0, "LRANGE", "q", "0", "-1"),
    on(1, "LRANGE", "q", "0", "-1"),
    { cmd: ["FLUSHALL"] },
  ],
});

// Random list sequences with the blocking pops in the draw: each can
// answer at once or times out at once (0.01 s).
const cases: DiffCase[] = [...scripted];
for (const seed of [15, 16]) {
  cases.push(
    randomCase(seed, [
      ({ key, pick }) => [pick(["BLPOP", "BRPOP"]), key(), key(), "0.01"],
      ({ key, end }) => ["BLMOVE", key(), key(), end(), end(), "0.01"],
    ]),
  );
}
for (const c of cases) c.actions.unshift({ cmd: ["FLUSHALL"] });

export const family: Family = { name: "blocking", since: 19, cases };
