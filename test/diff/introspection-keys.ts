// introspection-keys.ts -- MEMORY USAGE's arguments, once there are keys.
//
// The figure itself is this server's own estimate of what a key costs in
// a Node process (see commands/server.ts), not Redis's allocator count:
// only the replies that do not depend on it are compared.

import type { Action, Arg, DiffCase, Family } from "../src/redis-diff.ts";
import { withoutKeySpecs } from "./introspection.ts";

const cmds = (...list: Arg[][]): Action[] => list.map((cmd) => ({ cmd }));

const cases: DiffCase[] = [
  {
    name: "COMMAND INFO of the string and key commands",
    actions: [
      {
        cmd: [
          "COMMAND",
          "INFO",
          "get",
          "set",
          "setnx",
          "getset",
          "getdel",
          "mget",
          "mset",
          "append",
          "strlen",
        ],
      },
      {
        cmd: ["COMMAND", "INFO", "del", "unlink", "exists", "type"],
      },
      { cmd: ["COMMAND", "INFO", "keys", "rename", "dbsize", "flushdb", "flushall"] },
      { cmd: ["COMMAND", "INFO", "memory|usage", "memory|help"] },
    ],
    except: withoutKeySpecs,
  },
  {
    // SET's docs wait for step 17, with its expiry options (expiry.ts).
    name: "COMMAND DOCS of the string and key commands",
    actions: cmds(
      ["COMMAND", "DOCS", "get", "getset", "mset", "mget", "getdel"],
      ["COMMAND", "DOCS", "del", "keys", "rename", "flushall"],
      ["COMMAND", "DOCS", "memory|usage", "dbsize", "type", "append", "setnx"],
    ),
  },
  {
    name: "MEMORY USAGE: missing key, argument errors; MEMORY HELP",
    actions: cmds(
      ["FLUSHALL"],
      ["MEMORY", "USAGE", "nosuch"],
      ["MEMORY", "USAGE", "nosuch", "SAMPLES", "x"],
      ["SET", "k", "v"],
      ["MEMORY", "USAGE", "k", "SAMPLES"],
      ["MEMORY", "USAGE", "k", "SAMPLES", "x"],
      ["MEMORY", "USAGE", "k", "SAMPLES", "-1"],
      ["MEMORY", "USAGE", "k", "bogus", "1"],
      ["MEMORY", "USAGE"],
      ["MEMORY", "HELP"],
      ["MEMORY", "bogus"],
    ),
  },
];

export const family: Family = { name: "introspection-keys", since: 15, cases };
