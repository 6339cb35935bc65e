// introspection-consumer-groups.ts -- what tools ask about consumer groups: COMMAND's view
// of the group commands (XREADGROUP's movablekeys) and XGROUP HELP.
//
// The claiming commands' view, XINFO STREAM FULL with its groups, pending
// entries and consumers, and XINFO HELP (which lists CONSUMERS) are step
// 23's introspection-claiming.ts.

import type { DiffCase, Family } from "../src/redis-diff.ts";
import { mapFrames, withoutKeySpecs } from "./introspection.ts";
import { cmds } from "./introspection-streams.ts";

const cases: DiffCase[] = [
  {
    name: "COMMAND DOCS of the group commands",
    actions: cmds(
      ["COMMAND", "DOCS", "xread", "xreadgroup", "xack", "xinfo|groups"],
      ["COMMAND", "DOCS", "xgroup|create", "xgroup|setid", "xgroup|destroy"],
      ["COMMAND", "DOCS", "xgroup|createconsumer", "xgroup|delconsumer", "xgroup|help"],
    ),
  },
  {
    name: "COMMAND LIST FILTERBY PATTERN xr* and XGROUP|* answer only the matches",
    actions: cmds(
      ["COMMAND", "LIST", "FILTERBY", "PATTERN", "xr*"],
      ["COMMAND", "LIST", "FILTERBY", "PATTERN", "XGROUP|*"],
    ),
    except: {
      why: "Redis lists commands in its hash table's order, random per start: compared sorted",
      normalize: (t) => mapFrames(t, (v) => (Array.isArray(v) ? [...v].sort() : v)),
    },
  },
  {
    name: "COMMAND INFO: XREAD and XREADGROUP have movablekeys; every group command",
    actions: cmds(
      ["COMMAND", "INFO", "xread", "xreadgroup", "xack", "xinfo|groups"],
      [
        "COMMAND",
        "INFO",
        "xgroup|create",
        "xgroup|setid",
        "xgroup|destroy",
        "xgroup|createconsumer",
        "xgroup|delconsumer",
        "xgroup|help",
      ],
    ),
    except: withoutKeySpecs,
  },
  {
    name: "XGROUP HELP",
    actions: cmds(["XGROUP", "HELP"], ["xgroup", "help", "x"]),
  },
];

export const family: Family = { name: "introspection-consumer-groups", since: 22, cases };
