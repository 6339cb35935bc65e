// counters.ts -- the diff family of counters: INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT at
// the int64 edges, what counts as an integer, Redis's long-double digits, and
// the seeded-random sequences of strings.ts with the counters in them.
//
// Every case starts with FLUSHALL, as in strings.ts.

import type { DiffCase, Family } from "../src/redis-diff.ts";
import { withoutKeySpecs } from "./introspection.ts";
import { cmds, INT64_MAX, INT64_MIN, randomCase, unordered } from "./strings.ts";

const scripted: DiffCase[] = [
  {
    name: "the arity of every counter command",
    actions: cmds(
      ["INCR"],
      ["DECR", "a", "b"],
      ["INCRBY", "k"],
      ["DECRBY", "k"],
      ["INCRBYFLOAT", "k"],
    ),
  },
  {
    name: "a counter is a string: INCR after APPEND, APPEND after INCR",
    actions: cmds(
      ["SET", "t", "1"],
      ["APPEND", "t", "0"],
      ["INCR", "t"],
      ["APPEND", "t", "x"],
      ["INCR", "t"],
      ["GET", "t"],
      ["STRLEN", "t"],
      ["TYPE", "t"],
    ),
  },
  {
    name: "counters at the int64 edges",
    actions: cmds(
      ["SET", "n", "9223372036854775806"],
      ["INCR", "n"],
      ["INCR", "n"],
      ["GET", "n"],
      ["SET", "n", "-9223372036854775807"],
      ["DECR", "n"],
      ["DECR", "n"],
      ["INCRBY", "n", INT64_MAX],
      ["INCRBY", "n", INT64_MAX],
      ["INCRBY", "x", INT64_MIN],
      ["DECRBY", "x", "1"],
      ["DECRBY", "y", INT64_MIN],
      ["DECRBY", "missing", INT64_MIN],
      ["DECRBY", "y", INT64_MAX],
      ["INCRBY", "z", "9223372036854775808"],
      ["INCRBY", "z", "-9223372036854775809"],
      ["SET", "big", "9007199254740993"],
      ["INCR", "big"],
      ["INCRBY", "big", "9007199254740993"],
      ["DECR", "nothing"],
      ["DECRBY", "nothing2", "-5"],
    ),
  },
  {
    name: "what counts as an integer",
    actions: cmds(
      ...["+1", " 1", "1 ", "01", "-0", "1.0", "", "abc", "1e3", "0x10", "-", "00"].flatMap((v) => [
        ["SET", "v", v],
        ["INCR", "v"],
        ["INCRBY", "w", v],
      ]),
      ["SET", "v", "12345678901234567890"],
      ["INCR", "v"],
      ["SET", "v", "0"],
      ["INCR", "v"],
    ),
  },
  {
    name: "INCRBYFLOAT",
    actions: cmds(
      ["INCRBYFLOAT", "f", "10.5"],
      ["INCRBYFLOAT", "f", "0.1"],
      ["INCRBYFLOAT", "f", "-5.0e3"],
      ["INCRBYFLOAT", "g", "0.1"],
      ["INCRBYFLOAT", "g", "0.2"],
      ["INCRBYFLOAT", "h", "5"],
      ["GET", "h"],
      ["INCRBYFLOAT", "h", "abc"],
      ["INCRBYFLOAT", "h", "inf"],
      ["INCRBYFLOAT", "h", "nan"],
      ["INCRBYFLOAT", "h", " 1"],
      ["SET", "s", "abc"],
      ["INCRBYFLOAT", "s", "1"],
      ["SET", "i", INT64_MAX],
      ["INCRBYFLOAT", "i", "1"],
      ["SET", "t", "1"],
      ["INCRBYFLOAT", "t", "1.5"],
      ["HELLO", "3"],
      ["INCRBYFLOAT", "t", "1"],
    ),
    except: unordered,
  },
  {
    name: "RESP3 replies",
    actions: cmds(["HELLO", "3"], ["INCR", "n"], ["INCRBYFLOAT", "n", "1.5"], ["GET", "n"]),
    except: unordered,
  },
  {
    name: "COMMAND INFO of the counters",
    actions: [{ cmd: ["COMMAND", "INFO", "incr", "decr", "incrby", "decrby", "incrbyfloat"] }],
    except: withoutKeySpecs,
  },
  {
    name: "COMMAND DOCS of the counters",
    actions: cmds(["COMMAND", "DOCS", "incr", "decr", "incrby", "decrby", "incrbyfloat"]),
  },
];

const cases: DiffCase[] = [...scripted];
// The random sequences of strings.ts, with the counters drawn too.
for (const seed of [1, 2]) cases.push(randomCase(seed, false));
// Each case on an empty keyspace.
for (const c of cases) c.actions.unshift({ cmd: ["FLUSHALL"] });

export const family: Family = { name: "counters", since: 16, cases };
