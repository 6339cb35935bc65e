// lists.ts -- the diff family of lists and blocking: every list command's edges, WRONGTYPE,
// the blocking rules in scripted multi-client scenarios, and seeded-random list sequences.
//
// Every case starts with FLUSHALL. Blocking scenarios use the runner's
// `block` actions: the runner waits until the server counts the new
// blocked client, so clients block in the same order on both servers, and
// a parked connection's reply is read at its next action (a PING, which
// waits behind the blocked command on both). A timeout is checked the same
// way: a short BLPOP followed by the runner's own sync, which waits behind
// it until the nil reply.

import { type Action, type Arg, type DiffCase, type Family, random } from "../src/redis-diff.ts";

const INT64_MAX = "9223372036854775807";
const INT64_MIN = "-9223372036854775808";

const cmds = (...list: Arg[][]): Action[] => list.map((cmd) => ({ cmd }));
const on = (conn: number, ...cmd: Arg[]): Action => ({ conn, cmd });
const blockOn = (conn: number, ...cmd: Arg[]): Action => ({ conn, cmd, block: true });

const scripted: DiffCase[] = [
  {
    name: "pushes and pops at both ends, counts, missing keys, an emptied list is deleted",
    actions: cmds(
      ["LPUSH", "l", "a", "b", "c"],
      ["RPUSH", "l", "d", "e"],
      ["LRANGE", "l", "0", "-1"],
      ["LPUSHX", "l", "x"],
      ["RPUSHX", "l", "y", "z"],
      ["LPUSHX", "none", "x"],
      ["RPUSHX", "none", "x"],
      ["EXISTS", "none"],
      ["LLEN", "l"],
      ["LLEN", "none"],
      ["LPOP", "l"],
      ["RPOP", "l"],
      ["LPOP", "l", "2"],
      ["RPOP", "l", "2"],
      ["LPOP", "l", "0"],
      ["RPOP", "l", "0"],
      ["LPOP", "l", "-1"],
      ["LPOP", "l", "x"],
      ["RPOP", "l", INT64_MIN],
      ["LPOP", "l", INT64_MAX],
      ["EXISTS", "l"],
      ["LPOP", "l"],
      ["RPOP", "l"],
      ["LPOP", "l", "0"],
      ["RPOP", "l", "3"],
      ["RPUSH", "l", ""],
      ["LRANGE", "l", "0", "-1"],
      ["RPOP", "l"],
      ["EXISTS", "l"],
      ["LPOP", "l", "1", "2"],
      ["TYPE", "l"],
    ),
  },
  {
    name: "LRANGE and LINDEX at every edge, LSET, LTRIM",
    actions: cmds(
      ["RPUSH", "l", "a", "b", "c", "d", "e", "f", "g"],
      ["LRANGE", "l", "0", "-1"],
      ["LRANGE", "l", "-3", "-1"],
      ["LRANGE", "l", "-100", "2"],
      ["LRANGE", "l", "5", "100"],
      ["LRANGE", "l", "3", "1"],
      ["LRANGE", "l", "7", "8"],
      ["LRANGE", "l", "-1", "-2"],
      ["LRANGE", "l", INT64_MIN, INT64_MAX],
      ["LRANGE", "l", "x", "1"],
      ["LRANGE", "l", "1", "1.5"],
      ["LRANGE", "none", "0", "-1"],
      ["LINDEX", "l", "0"],
      ["LINDEX", "l", "-1"],
      ["LINDEX", "l", "-7"],
      ["LINDEX", "l", "-8"],
      ["LINDEX", "l", "7"],
      ["LINDEX", "l", INT64_MAX],
      ["LINDEX", "l", "x"],
      ["LINDEX", "none", "0"],
      ["LINDEX", "none", "x"],
      ["LSET", "l", "0", "A"],
      ["LSET", "l", "-1", "G"],
      ["LSET", "l", "7", "x"],
      ["LSET", "l", "-8", "x"],
      ["LSET", "l", "x", "y"],
      ["LSET", "none", "0", "x"],
      ["LSET", "none", "x", "x"],
      ["LRANGE", "l", "0", "-1"],
      ["LTRIM", "l", "1", "-2"],
      ["LRANGE", "l", "0", "-1"],
      ["LTRIM", "l", "-2", "100"],
      ["LRANGE", "l", "0", "-1"],
      ["LTRIM", "l", "x", "1"],
      ["LTRIM", "none", "0", "1"],
      ["LTRIM", "l", "5", "1"],
      ["EXISTS", "l"],
    ),
  },
  {
    name: "LINSERT and LREM",
    actions: cmds(
      ["RPUSH", "l", "a", "b", "a", "c", "a"],
      ["LINSERT", "l", "BEFORE", "a", "x"],
      ["LINSERT", "l", "after", "a", "y"],
      ["LINSERT", "l", "before", "zz", "x"],
      ["LINSERT", "l", "middle", "a", "x"],
      ["LINSERT", "none", "before", "a", "x"],
      ["LINSERT", "none", "middle", "a", "x"],
      ["LRANGE", "l", "0", "-1"],
      ["LREM", "l", "1", "a"],
      ["LRANGE", "l", "0", "-1"],
      ["LREM", "l", "-1", "a"],
      ["LRANGE", "l", "0", "-1"],
      ["LREM", "l", "0", "x"],
      ["LREM", "l", "0", "nothing"],
      ["LREM", "l", "x", "a"],
      ["LREM", "none", "0", "a"],
      ["LRANGE", "l", "0", "-1"],
      ["LREM", "l", "0", "a"],
      ["LREM", "l", "0", "b"],
      ["LREM", "l", "0", "c"],
      ["LREM", "l", "0", "y"],
      ["EXISTS", "l"],
    ),
  },
  {
    name: "LPOS options, and the first bad option in argument order",
    actions: cmds(
      ["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"],
      ["LPOS", "l", "c"],
      ["LPOS", "l", "c", "RANK", "2"],
      ["LPOS", "l", "c", "RANK", "-1"],
      ["LPOS", "l", "c", "RANK", "-3"],
      ["LPOS", "l", "c", "RANK", "4"],
      ["LPOS", "l", "c", "COUNT", "0"],
      ["LPOS", "l", "c", "COUNT", "2"],
      ["LPOS", "l", "c", "COUNT", "2", "RANK", "-1"],
      ["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"],
      ["LPOS", "l", "c", "MAXLEN", "2"],
      ["LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"],
      ["LPOS", "l", "c", "RANK", INT64_MIN],
      ["LPOS", "l", "c", "RANK", INT64_MIN, "COUNT", "0"],
      ["LPOS", "l", "zz"],
      ["LPOS", "l", "zz", "COUNT", "0"],
      ["LPOS", "none", "a"],
      ["LPOS", "none", "a", "COUNT", "5"],
      ["LPOS", "l", "c", "RANK", "0"],
      ["LPOS", "l", "c", "COUNT", "-1"],
      ["LPOS", "l", "c", "MAXLEN", "-1"],
      ["LPOS", "l", "c", "RANK", "0", "COUNT", "-1"],
      ["LPOS", "l", "c", "COUNT", "-1", "RANK", "0"],
      ["LPOS", "l", "c", "RANK", "x"],
      ["LPOS", "l", "c", "RANK"],
      ["LPOS", "l", "c", "FOO", "1"],
      ["LPOS", "l", "c", "rank", "1", "count"],
      ["LPOS", "none", "c", "RANK", "0"],
      ["LPOS", "l"],
    ),
  },
  {
    name: "LPOS COUNT and MAXLEN that are not numbers",
    actions: cmds(
      ["RPUSH", "l", "a", "b"],
      ["LPOS", "l", "a", "COUNT", "abc"],
      ["LPOS", "l", "a", "MAXLEN", "abc"],
      ["LPOS", "l", "a", "COUNT", "99999999999999999999"],
      ["LPOS", "l", "a", "MAXLEN", "1.5"],
      ["LPOS", "l", "a", "RANK", "abc", "COUNT", "abc"],
      ["LPOS", "l", "a", "COUNT", "abc", "RANK", "abc"],
      ["LPOS", "none", "a", "MAXLEN", "x"],
    ),
  },
  {
    name: "LMOVE and RPOPLPUSH: between lists, onto itself, missing source",
    actions: cmds(
      ["RPUSH", "src", "a", "b", "c"],
      ["LMOVE", "src", "dst", "LEFT", "RIGHT"],
      ["LMOVE", "src", "dst", "right", "left"],
      ["LRANGE", "dst", "0", "-1"],
      ["LMOVE", "dst", "dst", "LEFT", "RIGHT"],
      ["LRANGE", "dst", "0", "-1"],
      ["RPOPLPUSH", "src", "dst"],
      ["EXISTS", "src"],
      ["LRANGE", "dst", "0", "-1"],
      ["RPOPLPUSH", "none", "dst"],
      ["LMOVE", "none", "dst", "LEFT", "LEFT"],
      ["LMOVE", "dst", "x", "UP", "LEFT"],
      ["LMOVE", "dst", "x", "LEFT", "DOWN"],
      ["RPUSH", "one", "only"],
      ["RPOPLPUSH", "one", "one"],
      ["LRANGE", "one", "0", "-1"],
      ["LMOVE", "one", "one", "LEFT", "LEFT"],
      ["LRANGE", "one", "0", "-1"],
      ["RPOPLPUSH"],
      ["LMOVE", "a", "b", "LEFT"],
    ),
  },
  {
    name: "WRONGTYPE everywhere, TYPE list, and arities",
    actions: cmds(
      ["SET", "s", "v"],
      ["RPUSH", "l", "a"],
      ["TYPE", "l"],
      ["LPUSH", "s", "a"],
      ["RPUSH", "s", "a"],
      ["LPUSHX", "s", "a"],
      ["RPUSHX", "s", "a"],
      ["LPOP", "s"],
      ["RPOP", "s", "2"],
      ["LLEN", "s"],
      ["LRANGE", "s", "0", "-1"],
      ["LINDEX", "s", "0"],
      ["LSET", "s", "0", "x"],
      ["LINSERT", "s", "BEFORE", "a", "b"],
      ["LREM", "s", "0", "a"],
      ["LTRIM", "s", "0", "1"],
      ["LPOS", "s", "a"],
      ["LMOVE", "s", "l", "LEFT", "LEFT"],
      ["LMOVE", "l", "s", "LEFT", "LEFT"],
      ["LRANGE", "l", "0", "-1"],
      ["RPOPLPUSH", "l", "s"],
      ["BLPOP", "s", "0"],
      ["BRPOP", "none", "s", "0"],
      ["BLPOP", "l", "s", "0"],
      ["BLMOVE", "s", "l", "LEFT", "LEFT", "0"],
      ["RPUSH", "l", "a"],
      ["BLMOVE", "l", "s", "LEFT", "LEFT", "0"],
      ["GET", "l"],
      ["INCR", "l"],
      ["SET", "l", "now a string"],
      ["TYPE", "l"],
      ["LPUSH"],
      ["LPUSH", "k"],
      ["LPOP"],
      ["LLEN"],
      ["LRANGE", "k", "0"],
      ["LINDEX", "k"],
      ["LSET", "k", "0"],
      ["LINSERT", "k", "BEFORE", "a"],
      ["LREM", "k", "0"],
      ["LTRIM", "k", "0"],
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

// Seeded-random sequences over three list keys and one string, from two
// connections: every non-blocking list command, with indices and counts
// drawn around the edges, plus BLPOP/BLMOVE that can answer at once or
// time out at once.
const KEYS = ["a", "b", "c"];
const VALUES = ["x", "y", "z", "", "x"];
const INDICES = ["0", "1", "-1", "2", "-2", "5", "-5", "100", "-100"];

function randomCase(seed: number): DiffCase {
  const rnd = random(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const key = () => (rnd() < 0.05 ? "s" : pick(KEYS));
  const end = () => pick(["LEFT", "RIGHT"]);
  const actions: Action[] = [{ cmd: ["SET", "s", "string"] }];
  for (let i = 0; i < 80; i++) {
    const cmd: Arg[] = pick<() => Arg[]>([
      () => ["LPUSH", key(), pick(VALUES), pick(VALUES)],
      () => ["RPUSH", key(), pick(VALUES)],
      () => ["RPUSH", key(), pick(VALUES), pick(VALUES), pick(VALUES)],
      () => [pick(["LPUSHX", "RPUSHX"]), key(), pick(VALUES)],
      () => [pick(["LPOP", "RPOP"]), key()],
      () => [pick(["LPOP", "RPOP"]), key(), pick(["0", "1", "2", "5"])],
      () => ["LLEN", key()],
      () => ["LRANGE", key(), pick(INDICES), pick(INDICES)],
      () => ["LINDEX", key(), pick(INDICES)],
      () => ["LSET", key(), pick(INDICES), pick(VALUES)],
      () => ["LINSERT", key(), pick(["BEFORE", "AFTER"]), pick(VALUES), pick(VALUES)],
      () => ["LREM", key(), pick(["0", "1", "-1", "2"]), pick(VALUES)],
      () => ["LTRIM", key(), pick(INDICES), pick(INDICES)],
      () => [
        "LPOS",
        key(),
        pick(VALUES),
        ...pick([[], ["RANK", "-1"], ["RANK", "2"], ["COUNT", "0"], ["COUNT", "1", "MAXLEN", "2"]]),
      ],
      () => ["LMOVE", key(), key(), end(), end()],
      () => ["RPOPLPUSH", key(), key()],
      () => [pick(["BLPOP", "BRPOP"]), key(), key(), "0.01"],
      () => ["BLMOVE", key(), key(), end(), end(), "0.01"],
      () => ["TYPE", key()],
      () => ["DEL", key()],
    ])();
    actions.push({ conn: Math.floor(rnd() * 2), cmd });
  }
  actions.push({ cmd: ["LRANGE", "a", "0", "-1"] }, { cmd: ["LRANGE", "b", "0", "-1"] });
  return { name: `random list sequence, seed ${seed}`, actions };
}

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

const cases: DiffCase[] = [...scripted];
for (const seed of [11, 12, 13, 14, 15, 16]) cases.push(randomCase(seed));
for (const c of cases) c.actions.unshift({ cmd: ["FLUSHALL"] });

export const family: Family = { name: "lists and blocking", since: 17, cases };
