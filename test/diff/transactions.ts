// transactions.ts -- the diff family of MULTI, EXEC, DISCARD, WATCH and UNWATCH: every rule
// of Redis 7.0.15, a second client writing in between, and seeded-random mixes with strings.
//
// Every case starts with FLUSHALL. Connection 1 is "someone else": what it
// runs between connection 0's MULTI and EXEC runs at once and sees the old
// values, and what connection 0 queued shows nowhere until its EXEC. The
// runner leaves a connection in MULTI unsynced (test/src/redis-diff.ts), so
// its +QUEUED replies appear in the transcript after its EXEC. Cases about
// expiry wait for real time to pass, with margins wide enough for a busy
// machine: a key set with PX 20 and looked at 150 ms later is dead on both
// servers, whether or not active expiry has reclaimed it yet (the answer is
// the same either way, which is the point of those cases).

import {
  type Action,
  type Arg,
  type DiffCase,
  type Family,
  maskIds,
  random,
} from "../src/redis-diff.ts";

const on = (conn: number, ...list: Arg[][]): Action[] => list.map((cmd) => ({ conn, cmd }));
const cmds = (...list: Arg[][]): Action[] => on(0, ...list);

// WATCH k on connection 0, `write` on connection 1, then an empty
// transaction on 0: EXEC answers *-1 if the write touched k, *0 if not.
function watchCase(name: string, setup: Arg[][], writes: Arg[][], key = "k"): DiffCase {
  return {
    name,
    actions: [
      ...cmds(...setup, ["WATCH", key]),
      ...on(1, ...writes),
      ...cmds(["MULTI"], ["EXEC"], ["EXISTS", key]),
    ],
  };
}

const scripted: DiffCase[] = [
  {
    name: "blocking commands inside MULTI answer as timed out; with data they pop",
    actions: cmds(
      ["RPUSH", "full", "x"],
      ["XADD", "s", "1-1", "f", "v"],
      ["MULTI"],
      ["BLPOP", "empty", "0"],
      ["BRPOP", "empty", "0"],
      ["BLMOVE", "empty", "dst", "LEFT", "RIGHT", "0"],
      ["BRPOPLPUSH", "empty", "dst", "0"],
      ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
      ["BLPOP", "full", "0"],
      ["XREAD", "BLOCK", "0", "STREAMS", "s", "0"],
      ["EXEC"],
      ["EXISTS", "full", "dst"],
    ),
  },
  watchCase("WATCH: LPUSH aborts", [], [["LPUSH", "k", "a"]]),
  watchCase("WATCH: LPOP aborts", [["RPUSH", "k", "a", "b"]], [["LPOP", "k"]]),
  watchCase("WATCH: LPOP of a missing list does not abort", [], [["LPOP", "k"]]),
  watchCase("WATCH: LSET aborts", [["RPUSH", "k", "a"]], [["LSET", "k", "0", "b"]]),
  watchCase("WATCH: XADD aborts", [], [["XADD", "k", "1-1", "f", "v"]]),
  watchCase(
    "WATCH: XDEL of a missing entry does not abort",
    [["XADD", "k", "1-1", "f", "v"]],
    [["XDEL", "k", "9-9"]],
  ),
  {
    name: "a push inside EXEC wakes a blocked client only after EXEC",
    actions: [
      { conn: 1, cmd: ["BLPOP", "q", "0"], block: true },
      ...cmds(["MULTI"], ["RPUSH", "q", "a"], ["LLEN", "q"], ["RPUSH", "q", "b"], ["EXEC"]),
      ...cmds(["LRANGE", "q", "0", "-1"]),
    ],
  },
  {
    name: "WATCH: serving a blocked BLPOP touches the key",
    actions: [
      { conn: 1, cmd: ["BLPOP", "q", "0"], block: true },
      ...cmds(["WATCH", "q"]),
      ...on(2, ["RPUSH", "q", "a"]),
      ...cmds(["MULTI"], ["EXEC"], ["EXISTS", "q"]),
    ],
  },
  {
    name: "EXEC, DISCARD and UNWATCH outside a transaction; arity",
    actions: cmds(
      ["EXEC"],
      ["DISCARD"],
      ["UNWATCH"],
      ["WATCH"],
      ["MULTI", "extra"],
      ["DISCARD", "extra"],
      ["UNWATCH", "extra"],
      ["EXEC", "extra"],
      ["exec"],
    ),
  },
  {
    name: "queued commands run in order, their replies in one array",
    actions: cmds(
      ["MULTI"],
      ["SET", "a", "1"],
      ["INCR", "a"],
      ["GET", "a"],
      ["MGET", "a", "missing"],
      ["GET", "missing"],
      ["PING"],
      ["ECHO", "hi"],
      ["INCRBYFLOAT", "f", "1.5"],
      ["EXEC"],
      ["GET", "a"],
      ["MULTI"],
      ["EXEC"],
    ),
  },
  {
    name: "run-time errors take their slot; nothing is rolled back",
    actions: cmds(
      ["SET", "x", "1"],
      ["SET", "word", "abc"],
      ["MULTI"],
      ["INCR", "x"],
      ["INCR", "word"],
      ["INCR", "x"],
      ["SET", "k", "v", "EX", "-5"],
      ["RENAME", "missing", "other"],
      ["INCRBY", "x", "nan"],
      ["GET", "x"],
      ["EXEC"],
      ["GET", "x"],
      ["GET", "k"],
    ),
  },
  {
    name: "queue-time errors (unknown command, arity, subcommand) abort with EXECABORT",
    actions: cmds(
      ["MULTI"],
      ["SET", "a", "1"],
      ["NOSUCHCOMMAND", "x"],
      ["SET", "b", "2"],
      ["EXEC"],
      ["MGET", "a", "b"],
      ["MULTI"],
      ["SET", "a", "1"],
      ["GET"],
      ["EXEC"],
      ["MULTI"],
      ["CLIENT", "NOSUCH"],
      ["EXEC"],
      ["MULTI"],
      ["CLIENT"],
      ["EXEC"],
      ["MULTI"],
      ["MULTI", "extra"],
      ["EXEC"],
      ["MGET", "a", "b"],
    ),
  },
  {
    name: "EXEC with arguments ends the transaction, saying why",
    actions: cmds(["MULTI"], ["SET", "a", "1"], ["EXEC", "now"], ["EXEC"], ["GET", "a"]),
  },
  {
    name: "nested MULTI and WATCH inside MULTI are errors that do not abort",
    actions: cmds(
      ["MULTI"],
      ["SET", "a", "1"],
      ["MULTI"],
      ["WATCH", "a"],
      ["SET", "b", "2"],
      ["EXEC"],
      ["MGET", "a", "b"],
    ),
  },
  {
    name: "DISCARD drops the queue and the watches",
    actions: [
      ...cmds(["WATCH", "k"], ["MULTI"], ["SET", "a", "1"], ["DISCARD"], ["GET", "a"]),
      ...on(1, ["SET", "k", "changed"]),
      ...cmds(["MULTI"], ["SET", "a", "2"], ["EXEC"], ["DISCARD"]),
    ],
  },
  {
    name: "UNWATCH inside MULTI is only queued",
    actions: [
      ...cmds(["WATCH", "k"], ["MULTI"], ["UNWATCH"]),
      ...on(1, ["SET", "k", "1"]),
      ...cmds(["SET", "a", "1"], ["EXEC"], ["GET", "a"]),
    ],
  },
  {
    name: "another client runs between MULTI and EXEC, and never sees the queue",
    actions: [
      ...cmds(["SET", "a", "1"], ["MULTI"], ["INCR", "a"], ["SET", "b", "queued"]),
      ...on(1, ["MGET", "a", "b"], ["SET", "a", "10"]),
      ...cmds(["INCR", "a"], ["EXEC"]),
      ...on(1, ["MGET", "a", "b"]),
    ],
  },
  {
    name: "RESP3: EXEC's array, nulls inside it, nil when a watch fires",
    actions: [
      ...cmds(["HELLO", "3"], ["MULTI"], ["GET", "missing"], ["INCRBYFLOAT", "f", "2.5"]),
      ...cmds(["MGET", "missing", "f"], ["EXEC"], ["WATCH", "f"]),
      ...on(1, ["INCR", "n"], ["DEL", "f"]),
      ...cmds(["MULTI"], ["GET", "f"], ["EXEC"], ["EXEC"], ["MULTI"], ["NOSUCH"], ["EXEC"]),
    ],
  },
  {
    name: "RESP2: SUBSCRIBE and PUBLISH inside EXEC; then MULTI and EXEC are refused",
    actions: [
      ...cmds(["MULTI"], ["PING"], ["SUBSCRIBE", "ch"], ["PUBLISH", "ch", "to myself"]),
      ...cmds(["EXEC"], ["MULTI"], ["EXEC"], ["UNSUBSCRIBE"], ["MULTI"], ["PING"], ["EXEC"]),
    ],
  },
  {
    name: "RESP3: SUBSCRIBE inside EXEC is a push in the array; HELLO 2 switches mid-array",
    actions: [
      ...cmds(["HELLO", "3"], ["SUBSCRIBE", "news"], ["MULTI"], ["SUBSCRIBE", "ch"], ["PING"]),
      ...cmds(["HELLO", "2"], ["PING"], ["EXEC"]),
      ...on(1, ["PUBLISH", "news", "hello"]),
    ],
  },
  {
    name: "HELLO inside MULTI is queued, its errors too",
    actions: cmds(["MULTI"], ["HELLO", "3"], ["HELLO", "5"], ["GET", "missing"], ["EXEC"]),
  },
  {
    name: "QUIT inside MULTI closes the connection; the queue never runs",
    actions: [...cmds(["MULTI"], ["SET", "q", "1"], ["QUIT"]), ...on(1, ["GET", "q"])],
  },
  {
    name: "a pipeline of inline commands: MULTI, queue, EXEC in one write",
    actions: [
      { raw: "MULTI\r\nSET a 1\r\nINCR a\r\nNOSUCH\r\nEXEC\r\nMULTI\r\nINCR a\r\nEXEC\r\n" },
    ],
  },
  // WATCH: what touches a watched key, and what does not.
  watchCase("WATCH: SET by another client aborts", [["SET", "k", "1"]], [["SET", "k", "1"]]),
  watchCase("WATCH: a missing key created by another client aborts", [], [["SET", "k", "v"]]),
  watchCase("WATCH: DEL aborts", [["SET", "k", "1"]], [["DEL", "k"]]),
  watchCase(
    "WATCH: DEL of a missing key does not",
    [],
    [
      ["DEL", "k"],
      ["UNLINK", "k"],
    ],
  ),
  watchCase("WATCH: EXPIRE aborts", [["SET", "k", "1"]], [["EXPIRE", "k", "100"]]),
  watchCase(
    "WATCH: EXPIRE in the past (a delete) aborts",
    [["SET", "k", "1"]],
    [["PEXPIRE", "k", "-1"]],
  ),
  watchCase(
    "WATCH: refused EXPIRE NX/XX/GT/LT and PERSIST without TTL do not",
    [["SET", "k", "1"]],
    [
      ["EXPIRE", "k", "100", "GT"],
      ["EXPIRE", "k", "100", "XX"],
      ["PERSIST", "k"],
      ["EXPIRE", "nokey", "5"],
    ],
  ),
  watchCase("WATCH: PERSIST aborts", [["SET", "k", "1", "EX", "100"]], [["PERSIST", "k"]]),
  watchCase(
    "WATCH: FLUSHALL of an existing watched key aborts",
    [["SET", "k", "1"]],
    [["FLUSHALL"]],
  ),
  watchCase("WATCH: FLUSHDB too", [["SET", "k", "1"]], [["FLUSHDB"]]),
  watchCase(
    "WATCH: FLUSHALL with a missing watched key does not",
    [["SET", "other", "1"]],
    [["FLUSHALL"]],
  ),
  watchCase("WATCH: RENAME's source aborts", [["SET", "k", "1"]], [["RENAME", "k", "dst"]]),
  watchCase("WATCH: RENAME's destination aborts", [["SET", "src", "1"]], [["RENAME", "src", "k"]]),
  watchCase(
    "WATCH: RENAME of a key onto itself does not",
    [["SET", "k", "1"]],
    [["RENAME", "k", "k"]],
  ),
  watchCase(
    "WATCH: SET ... EXAT in the past on a missing key aborts (Redis writes it born dead)",
    [],
    [["SET", "k", "v", "EXAT", "1"]],
  ),
  watchCase(
    "WATCH: writes that change nothing do not (SETNX, SET NX/XX, GETDEL, failed INCR)",
    [["SET", "k", "word"]],
    [
      ["SETNX", "k", "x"],
      ["SET", "k", "x", "NX"],
      ["SET", "nokey", "x", "XX"],
      ["GETDEL", "nokey"],
      ["INCR", "k"],
      ["INCRBYFLOAT", "k", "1"],
      ["GET", "k"],
      ["SET", "other", "1"],
    ],
  ),
  watchCase("WATCH: APPEND of nothing still aborts", [["SET", "k", "1"]], [["APPEND", "k", ""]]),
  watchCase("WATCH: MSET aborts", [], [["MSET", "a", "1", "k", "2"]]),
  watchCase("WATCH: another client's EXEC aborts", [], [["MULTI"], ["SET", "k", "1"], ["EXEC"]]),
  {
    name: "WATCH: our own write aborts too",
    actions: cmds(["WATCH", "k"], ["SET", "k", "1"], ["MULTI"], ["GET", "k"], ["EXEC"]),
  },
  {
    name: "WATCH: several keys, several watchers of one key",
    actions: [
      ...on(0, ["WATCH", "a", "b", "a"]),
      ...on(1, ["WATCH", "b"]),
      ...on(2, ["WATCH", "c"]),
      ...on(3, ["SET", "b", "1"]),
      ...on(0, ["MULTI"], ["INCR", "a"], ["EXEC"]),
      ...on(1, ["MULTI"], ["INCR", "a"], ["EXEC"]),
      ...on(2, ["MULTI"], ["INCR", "a"], ["EXEC"]),
      ...on(3, ["GET", "a"]),
    ],
  },
  {
    name: "WATCH: EXEC, DISCARD and UNWATCH clear the watches; a fired watch stays fired",
    actions: [
      ...cmds(["WATCH", "k"], ["MULTI"], ["EXEC"]),
      ...on(1, ["SET", "k", "1"]),
      ...cmds(["MULTI"], ["EXEC"], ["WATCH", "k"], ["UNWATCH"]),
      ...on(1, ["SET", "k", "2"]),
      ...cmds(["MULTI"], ["EXEC"], ["WATCH", "k"]),
      ...on(1, ["SET", "k", "3"]),
      ...cmds(["WATCH", "other"], ["MULTI"], ["EXEC"], ["MULTI"], ["EXEC"]),
    ],
  },
  // Expiry.
  {
    name: "WATCH: a key alive when watched and dead at EXEC aborts, reclaimed or not",
    actions: [
      ...cmds(["SET", "k", "v", "PX", "100"], ["WATCH", "k"]),
      { wait: 250 },
      ...cmds(["MULTI"], ["EXEC"], ["SET", "k", "v", "PX", "100"], ["WATCH", "k"]),
      { wait: 250 },
      ...on(1, ["GET", "k"]),
      ...cmds(["MULTI"], ["EXEC"]),
    ],
  },
  {
    name: "WATCH: a key already dead when watched does not abort, unless written again",
    actions: [
      ...cmds(["SET", "k", "v", "PX", "20"]),
      { wait: 150 },
      ...cmds(["WATCH", "k"], ["MULTI"], ["EXEC"], ["SET", "k", "v", "PX", "20"]),
      { wait: 150 },
      ...cmds(["WATCH", "k"]),
      ...on(1, ["GET", "k"], ["FLUSHALL"]),
      ...cmds(["MULTI"], ["EXEC"], ["SET", "k", "v", "PX", "20"]),
      { wait: 150 },
      ...cmds(["WATCH", "k"]),
      ...on(1, ["SET", "k", "new"]),
      ...cmds(["MULTI"], ["EXEC"]),
    ],
  },
  {
    name: "WATCH: FLUSHALL of a key that expired since it was watched aborts",
    actions: [
      ...cmds(["SET", "k", "v", "PX", "100"], ["WATCH", "k"]),
      { wait: 250 },
      ...on(1, ["FLUSHALL"]),
      ...cmds(["MULTI"], ["EXEC"]),
    ],
  },
];

// Seeded-random sequences: two clients over three keys, string and key
// commands mixed with MULTI, EXEC, DISCARD, WATCH and UNWATCH, and now
// and then a command that cannot be queued. Both clients write, so watches
// fire and do not, and transactions run with the other's writes between.
const KEYS = ["a", "b", "c"];

function randomCase(seed: number): DiffCase {
  const rnd = random(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const key = () => pick(KEYS);
  const data = (): Arg[] =>
    pick<() => Arg[]>([
      () => ["SET", key(), pick(["1", "x", "10"])],
      () => ["SET", key(), "v", ...pick([["NX"], ["XX"], ["GET"], ["EX", "1000"]])],
      () => ["GET", key()],
      () => ["INCR", key()],
      () => ["INCRBY", key(), pick(["5", "-3", "x"])],
      () => ["APPEND", key(), pick(["x", ""])],
      () => ["DEL", key()],
      () => ["EXPIRE", key(), "1000", ...pick([[], ["NX"], ["GT"]])],
      () => ["PERSIST", key()],
      () => ["RENAME", key(), key()],
      () => ["GETDEL", key()],
      () => ["SETNX", key(), "n"],
      () => ["MGET", ...KEYS],
      () => ["MSET", key(), "1", key(), "2"],
      () => ["EXISTS", key()],
      () => pick([["FLUSHALL"], ["TTL", key()], ["DBSIZE"], ["NOSUCH"], ["GET"]]),
    ])();
  // Which connection is in MULTI, as this generator sees it: inside one,
  // EXEC is likely; outside, MULTI and WATCH are.
  const inMulti = [false, false];
  const actions: Action[] = [];
  for (let i = 0; i < 80; i++) {
    const conn = Math.floor(rnd() * 2);
    const r = rnd();
    let cmd: Arg[];
    if (inMulti[conn]) {
      if (r < 0.2) cmd = ["EXEC"];
      else if (r < 0.25) cmd = ["DISCARD"];
      else if (r < 0.28) cmd = pick([["MULTI"], ["WATCH", key()], ["UNWATCH"]]);
      else cmd = data();
    } else if (r < 0.2) cmd = ["MULTI"];
    else if (r < 0.35) cmd = ["WATCH", key(), ...(rnd() < 0.3 ? [key()] : [])];
    else if (r < 0.38) cmd = pick([["UNWATCH"], ["EXEC"], ["DISCARD"]]);
    else cmd = data();
    const name = cmd[0];
    if (name === "MULTI") inMulti[conn] = true;
    if (name === "EXEC" || name === "DISCARD") inMulti[conn] = false;
    actions.push({ conn, cmd });
  }
  // Whatever is left open shows in the transcript too.
  actions.push({ conn: 0, cmd: ["EXEC"] }, { conn: 1, cmd: ["EXEC"] }, { cmd: ["MGET", ...KEYS] });
  return { name: `random transactions over three keys, seed ${seed}`, actions };
}

// WATCH is per database: k in database 0 and k in database 5 are two
// keys; SWAPDB and FLUSHALL touch watched keys in every database.
scripted.push(
  {
    name: "WATCH k in one database, a write to k in another",
    actions: [
      ...cmds(["SELECT", "5"], ["WATCH", "k"]),
      ...on(1, ["SET", "k", "db0"]),
      ...cmds(["MULTI"], ["GET", "k"], ["EXEC"]),
      ...cmds(["WATCH", "k"], ["SELECT", "0"], ["WATCH", "k"]),
      ...on(1, ["SELECT", "5"], ["SET", "k", "db5"]),
      ...cmds(["MULTI"], ["GET", "k"], ["EXEC"]),
      { cmd: ["FLUSHALL"] },
    ],
  },
  {
    name: "SWAPDB touches the watched keys that exist in either database",
    actions: [
      ...cmds(["SET", "k", "0"], ["WATCH", "k"]),
      ...on(1, ["SWAPDB", "0", "9"]),
      ...cmds(["MULTI"], ["GET", "k"], ["EXEC"]),
      ...cmds(["WATCH", "nothere"]),
      ...on(1, ["SWAPDB", "0", "8"]),
      ...cmds(["MULTI"], ["PING"], ["EXEC"]),
      { cmd: ["FLUSHALL"] },
    ],
  },
);

const cases: DiffCase[] = [...scripted];
for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) cases.push(randomCase(seed));
// Each case on an empty keyspace. HELLO's replies hold connection ids,
// which each server counts on its own.
for (const c of cases) {
  c.actions.unshift({ cmd: ["FLUSHALL"] });
  c.except ??= { why: "connection ids differ", normalize: maskIds };
}

export const family: Family = { name: "transactions", since: 24, cases };
