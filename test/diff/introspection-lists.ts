// introspection-lists.ts -- COMMAND DOCS of the list commands, which
// redis-cli reads for its help and typing hints.

import type { DiffCase, Family } from "../src/redis-diff.ts";
import { withoutKeySpecs } from "./introspection.ts";

const cases: DiffCase[] = [
  {
    name: "COMMAND INFO of the list commands",
    actions: [
      {
        cmd: [
          "COMMAND",
          "INFO",
          "lpush",
          "rpush",
          "lpushx",
          "rpushx",
          "lpop",
          "rpop",
          "llen",
          "lrange",
          "lindex",
        ],
      },
      {
        cmd: ["COMMAND", "INFO", "lset", "linsert", "lrem", "ltrim", "lpos", "lmove", "rpoplpush"],
      },
    ],
    except: withoutKeySpecs,
  },
  {
    name: "COMMAND DOCS of the list commands",
    actions: [
      { cmd: ["COMMAND", "DOCS", "lpush", "lpop", "lpos", "linsert", "lmove"] },
      { cmd: ["COMMAND", "DOCS", "lrange", "lrem", "lset", "ltrim", "rpoplpush"] },
    ],
  },
];

export const family: Family = { name: "introspection-lists", since: 18, cases };
