// info.ts -- the diff family of what the server says about itself: CONFIG (GET,
// SET, RESETSTAT, REWRITE, HELP), INFO's section choice, DBSIZE and FLUSHALL
// on a server without keys. COMMAND, a step later, is in introspection.ts.
//
// Redis lists configuration parameters in the order of its hash table,
// whose hash function has a random seed: the order changes with every
// start. Those cases compare the parameters sorted. Values that belong to
// one process (its port, its working directory) are masked.

import { type DiffCase, type Family, maskIds } from "../src/redis-diff.ts";
import { maskNumbers } from "./clients.ts";
import { mapFrames, type Resp } from "./introspection.ts";

// A CONFIG GET reply as sorted name/value pairs, with the values of
// `masked` parameters hidden.
function configPairs(masked: string[]) {
  return (v: Resp): Resp => {
    if (!Array.isArray(v)) return v;
    const pairs: string[] = [];
    for (let i = 0; i < v.length; i += 2) {
      const name = String(v[i]);
      pairs.push(`${name}=${masked.includes(name) ? "<masked>" : String(v[i + 1])}`);
    }
    return pairs.sort();
  };
}

const cases: DiffCase[] = [
  {
    name: "CONFIG HELP",
    actions: [{ cmd: ["CONFIG", "HELP"] }, { cmd: ["config", "help", "x"] }],
  },
  {
    name: "CONFIG GET of several parameters",
    actions: [
      // (Not databases: step 10 has one, Redis 16; the databases family
      // compares it from step 15. client-output-buffer-limit: connection.ts.)
      { cmd: ["CONFIG", "GET", "port", "maxmemory-policy"] },
      { cmd: ["CONFIG", "GET", "maxmemory-policy", "port", "port", "timeout"] },
      { cmd: ["CONFIG", "GET", "dir"] },
      { cmd: ["CONFIG", "GET", "maxmemory", "save", "appendonly"] },
    ],
    except: {
      why: "Redis lists parameters in its hash table's order, random per start; each server has its own port and directory",
      normalize: (t) => mapFrames(t, configPairs(["port", "dir"])),
    },
  },
  {
    name: "CONFIG SET: a change takes effect, errors as Redis's",
    actions: [
      { cmd: ["CONFIG", "SET", "proto-max-bulk-len", "1"] },
      { cmd: ["CONFIG", "SET", "proto-max-bulk-len", "abc"] },
      { cmd: ["CONFIG", "SET", "proto-max-bulk-len", "2mb"] },
      { cmd: ["CONFIG", "GET", "proto-max-bulk-len"] },
      { raw: "*2\r\n$4\r\nECHO\r\n$3000000\r\n", sync: "close" },
      { conn: 1, cmd: ["CONFIG", "SET", "PROTO-MAX-BULK-LEN", "512MB"] },
      { conn: 1, cmd: ["CONFIG", "GET", "proto-max-bulk-len"] },
      { conn: 1, cmd: ["CONFIG", "SET", "client-query-buffer-limit", "1k"] },
      {
        conn: 1,
        cmd: ["CONFIG", "SET", "client-query-buffer-limit", "2gb", "proto-max-bulk-len", "x"],
      },
      { conn: 1, cmd: ["CONFIG", "GET", "client-query-buffer-limit"] },
      { conn: 1, cmd: ["CONFIG", "SET", "client-query-buffer-limit", "1gb"] },
      { conn: 1, cmd: ["CONFIG", "SET", "databases", "3"] },
      { conn: 1, cmd: ["CONFIG", "SET", "dir", "/"] },
      { conn: 1, cmd: ["CONFIG", "SET", "nosuch", "1"] },
      { conn: 1, cmd: ["CONFIG", "SET", "timeout", "0", "TIMEOUT", "0"] },
      { conn: 1, cmd: ["CONFIG", "SET", "timeout", "0", "save", ""] },
      { conn: 1, cmd: ["CONFIG", "SET", "timeout", "abc"] },
      { conn: 1, cmd: ["CONFIG", "SET", "timeout", "-1"] },
      { conn: 1, cmd: ["CONFIG", "SET", "appendonly", "maybe"] },
      { conn: 1, cmd: ["CONFIG", "SET", "maxmemory", "lots"] },
      { conn: 1, cmd: ["CONFIG", "SET", "maxmemory-policy", "foo"] },
      { conn: 1, cmd: ["CONFIG", "SET", "maxmemory-policy", "NOEVICTION", "appendonly", "NO"] },
      { conn: 1, cmd: ["CONFIG", "SET", "port"] },
      { conn: 1, cmd: ["CONFIG", "SET", "a", "b", "c"] },
      { conn: 1, cmd: ["CONFIG", "SET", "protected-mode", "maybe"] },
      { conn: 1, cmd: ["CONFIG", "SET", "protected-mode", "no"] },
      { conn: 1, cmd: ["CONFIG", "GET", "protected-mode"] },
      { conn: 1, cmd: ["CONFIG", "SET", "protected-mode", "yes", "requirepass", ""] },
      { conn: 1, cmd: ["CONFIG", "GET", "requirepass"] },
    ],
  },
  {
    name: "CONFIG RESETSTAT and REWRITE",
    actions: [
      { cmd: ["CONFIG", "RESETSTAT"] },
      { cmd: ["CONFIG", "RESETSTAT", "x"] },
      { cmd: ["CONFIG", "REWRITE"] },
    ],
  },
  {
    name: "INFO: unknown and content-free sections",
    actions: [
      { cmd: ["INFO", "nosuch"] },
      { cmd: ["INFO", "cluster", "MODULES"] },
      { cmd: ["INFO", "modules", "nosuch"] },
    ],
  },
  {
    name: "CONFIG: arity and unknown subcommands",
    actions: [{ cmd: ["CONFIG"] }, { cmd: ["config", "nosuch", "x"] }],
  },
  {
    name: "DBSIZE and FLUSHALL on an empty server",
    actions: [
      { cmd: ["DBSIZE"] },
      { cmd: ["FLUSHALL"] },
      { cmd: ["FLUSHDB", "ASYNC"] },
      { cmd: ["FLUSHALL", "bogus"] },
      { cmd: ["DBSIZE", "x"] },
    ],
  },
  {
    name: "CONFIG GET of parameters we have",
    actions: [
      { cmd: ["CONFIG", "GET", "save"] },
      { cmd: ["CONFIG", "GET", "appendonly"] },
      { cmd: ["CONFIG", "GET", "proto-max-bulk-len"] },
      { cmd: ["CONFIG", "GET", "PROTO-max-*"] },
      { cmd: ["CONFIG", "GET", "nosuch*"] },
      { cmd: ["CONFIG", "GET"] },
      { cmd: ["HELLO", "3"] },
      { cmd: ["CONFIG", "GET", "appendonly"] },
    ],
    except: { why: "connection ids are each server's own count", normalize: maskIds },
  },
  {
    name: "CONFIG GET client-output-buffer-limit: Redis's default, pubsub 32mb 8mb 60",
    actions: [{ cmd: ["CONFIG", "GET", "client-output-buffer-limit"] }],
  },
  {
    name: "MONITOR does not show CONFIG (an admin command)",
    actions: [
      { conn: 1, cmd: ["MONITOR"] },
      { conn: 2, cmd: ["CONFIG", "GET", "save"] },
      { conn: 2, cmd: ["ECHO", "shown"] },
    ],
    except: {
      why: "times, ports and ids are each server's own",
      normalize: maskNumbers,
    },
  },
];

export const family: Family = { name: "info", since: 12, cases };
