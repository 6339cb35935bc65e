// introspection-transactions.ts -- COMMAND's view of the transaction commands:
// with them, every command of Redis's @transaction category is here, so
// COMMAND LIST FILTERBY ACLCAT transaction must answer exactly Redis's list.

import type { DiffCase, Family } from "../src/redis-diff.ts";
import { mapFrames, withoutKeySpecs } from "./introspection.ts";

const cases: DiffCase[] = [
  {
    name: "COMMAND INFO of the transaction commands",
    actions: [{ cmd: ["COMMAND", "INFO", "multi", "exec", "discard", "watch", "unwatch"] }],
    except: withoutKeySpecs,
  },
  {
    name: "COMMAND DOCS of the transaction commands",
    actions: [{ cmd: ["COMMAND", "DOCS", "multi", "exec", "discard", "watch", "unwatch"] }],
  },
  {
    name: "COMMAND LIST FILTERBY ACLCAT transaction",
    actions: [
      { cmd: ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "transaction"] },
      { cmd: ["COMMAND", "LIST", "FILTERBY", "aclcat", "TRANSACTION"] },
    ],
    except: {
      why: "Redis lists commands in its hash table's order, random per start: compared sorted",
      normalize: (t) => mapFrames(t, (v) => (Array.isArray(v) ? [...v].sort() : v)),
    },
  },
];

export const family: Family = { name: "introspection-transactions", since: 24, cases };
