// introspection-blocking.ts -- COMMAND INFO and COMMAND DOCS of the blocking pops, which
// redis-cli reads for its help and typing hints (the `blocking` flag among them).

import type { DiffCase, Family } from "../src/redis-diff.ts";
import { withoutKeySpecs } from "./introspection.ts";

const cases: DiffCase[] = [
  {
    name: "COMMAND INFO of the blocking pops",
    actions: [{ cmd: ["COMMAND", "INFO", "blpop", "brpop", "blmove", "brpoplpush"] }],
    except: withoutKeySpecs,
  },
  {
    name: "COMMAND DOCS of the blocking pops",
    actions: [
      { cmd: ["COMMAND", "DOCS", "blmove", "blpop"] },
      { cmd: ["COMMAND", "DOCS", "brpoplpush", "brpop"] },
    ],
  },
];

export const family: Family = { name: "introspection-blocking", since: 19, cases };
