// introspection.ts -- the diff family of what tools ask the server about itself:
// COMMAND (LIST with its filters, INFO, HELP), CONFIG (GET, SET, RESETSTAT,
// REWRITE, HELP) and INFO's section choice.
//
// Redis lists commands and configuration parameters in the order of its
// hash tables, whose hash function has a random seed: the order changes
// with every start. Those cases compare the items sorted. Values that
// belong to one process (its port, its working directory) are masked.

import { type DiffCase, type Family, maskIds } from "../src/redis-diff.ts";
import { maskNumbers } from "./clients.ts";

/* ---- Reading a transcript entry back into values, for normalisers ---- */

export type Resp = string | number | null | Resp[] | { error: string };

// One RESP2/RESP3 frame, as the transcript holds it (JSON of the bytes).
export function parseResp(text: string): Resp {
  let pos = 0;
  const line = (): string => {
    const end = text.indexOf("\r\n", pos);
    const s = text.slice(pos, end);
    pos = end + 2;
    return s;
  };
  const value = (): Resp => {
    const type = text[pos++];
    const head = line();
    switch (type) {
      case "+":
        return head;
      case "-":
        return { error: head };
      case ":":
        return Number(head);
      case "_":
        return null;
      case "$":
      case "=": {
        const n = Number(head);
        if (n < 0) return null;
        const s = text.slice(pos, pos + n);
        pos += n + 2;
        return s;
      }
      case "*":
      case "~":
      case "%": {
        const n = Number(head);
        if (n < 0) return null;
        const items: Resp[] = [];
        for (let i = 0; i < (type === "%" ? n * 2 : n); i++) items.push(value());
        return items;
      }
      default:
        throw new Error(`cannot parse ${JSON.stringify(text)}`);
    }
  };
  return value();
}

// Each entry "<conn>: <json of the frame>" rewritten by `f` (on the parsed
// frame); entries that are not frames ("(closed)") stay as they are.
export function mapFrames(transcript: string[], f: (v: Resp) => Resp): string[] {
  return transcript.map((t) => {
    const colon = t.indexOf(": ");
    const raw = JSON.parse(t.slice(colon + 2)) as string;
    if (raw.startsWith("(")) return t;
    return `${t.slice(0, colon)}: ${JSON.stringify(f(parseResp(raw)))}`;
  });
}

// COMMAND INFO without the key specs (element 8 of each command's array),
// which this server does not describe (see commands/server.ts).
export const withoutKeySpecs = {
  why: "no key specs here: COMMAND INFO compared without them",
  normalize: (t: string[]) =>
    mapFrames(t, (v) =>
      Array.isArray(v)
        ? v.map((info) => (Array.isArray(info) ? info.filter((_, i) => i !== 8) : info))
        : v,
    ),
};

const sortedArray = (v: Resp): Resp => (Array.isArray(v) ? [...v].sort() : v);

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

const unordered = {
  why: "Redis lists commands in its hash table's order, random per start: compared sorted",
  normalize: (t: string[]) => mapFrames(t, sortedArray),
};

const cases: DiffCase[] = [
  {
    name: "COMMAND INFO of every command: arity, flags, keys, ACL categories, tips",
    actions: [
      { cmd: ["COMMAND", "INFO", "ping", "echo", "quit", "hello", "select", "dbsize", "flushall"] },
      { cmd: ["COMMAND", "INFO", "flushdb", "info", "command|count", "command|docs"] },
      { cmd: ["COMMAND", "INFO", "command|info", "command|list", "command|help", "config|get"] },
      {
        cmd: ["COMMAND", "INFO", "config|set", "config|resetstat", "config|rewrite", "config|help"],
      },
      { cmd: ["COMMAND", "INFO", "client|id", "client|getname", "client|setname", "client|list"] },
    ],
    except: withoutKeySpecs,
  },
  {
    name: "COMMAND DOCS: arguments, complexity, history as Redis 7.0 (redis-cli's help and hints)",
    actions: [
      {
        cmd: ["COMMAND", "DOCS", "ping", "echo", "hello", "select", "quit"],
      },
      {
        cmd: ["COMMAND", "DOCS", "config|get", "config|set", "client|list", "command|list", "info"],
      },
      { cmd: ["COMMAND", "DOCS", "command|docs", "client|setname"] },
      { cmd: ["HELLO", "3"] },
      { cmd: ["COMMAND", "DOCS", "client|list", "hello"] },
      { cmd: ["HELLO", "2"] },
    ],
    except: {
      why: "HELLO's connection id is each server's own count",
      normalize: (t) => t.map((e) => e.replace(/(\\r\\nid\\r\\n:)\d+/g, "$1<id>")),
    },
  },
  {
    name: "COMMAND LIST FILTERBY: pattern, module, unknown category",
    actions: [
      { cmd: ["COMMAND", "LIST", "FILTERBY", "PATTERN", "config|[gs]e*"] },
      { cmd: ["COMMAND", "LIST", "FILTERBY", "pattern", "COMMAND|[cd]*"] },
      { cmd: ["COMMAND", "LIST", "FILTERBY", "PATTERN", "pin?"] },
      { cmd: ["COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch"] },
      { cmd: ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"] },
      { cmd: ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "@connection"] },
    ],
    except: unordered,
  },
  {
    name: "COMMAND LIST: syntax errors",
    actions: [
      { cmd: ["COMMAND", "LIST", "x"] },
      { cmd: ["COMMAND", "LIST", "FILTERBY"] },
      { cmd: ["COMMAND", "LIST", "FILTERBY", "PATTERN"] },
      { cmd: ["COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"] },
      { cmd: ["COMMAND", "LIST", "FILTERBY", "BOGUS", "x"] },
      { cmd: ["COMMAND", "LIST", "BOGUS", "PATTERN", "x"] },
    ],
  },
  {
    name: "COMMAND INFO of invalid subcommands",
    actions: [
      { cmd: ["COMMAND", "INFO", "config|bogus", "ping|x", "config|get|x", "|", "config|"] },
      { cmd: ["HELLO", "3"] },
      { cmd: ["COMMAND", "INFO", "config|bogus", "nosuch"] },
      { cmd: ["HELLO", "2"] },
    ],
    except: {
      why: "HELLO's connection id is each server's own count",
      normalize: (t) => t.map((e) => e.replace(/(\\r\\nid\\r\\n:)\d+/g, "$1<id>")),
    },
  },
  {
    name: "COMMAND INFO: flags in Redis's order, ACL categories",
    actions: [
      { cmd: ["COMMAND", "INFO", "echo", "quit", "select", "config|get", "config|resetstat"] },
      { cmd: ["COMMAND", "INFO", "client|id", "client|getname", "command|count"] },
    ],
  },
  {
    name: "COMMAND HELP and CONFIG HELP",
    actions: [
      { cmd: ["COMMAND", "HELP"] },
      { cmd: ["CONFIG", "HELP"] },
      { cmd: ["config", "help", "x"] },
    ],
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
    name: "CONFIG and COMMAND: arity and unknown subcommands",
    actions: [
      { cmd: ["CONFIG"] },
      { cmd: ["config", "nosuch", "x"] },
      { cmd: ["COMMAND", "COUNT", "x"] },
    ],
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
    name: "COMMAND INFO of an unknown command",
    actions: [
      { cmd: ["COMMAND", "INFO", "nosuchcommand"] },
      { cmd: ["COMMAND", "DOCS", "nosuchcommand"] },
    ],
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

export const family: Family = { name: "introspection", since: 13, cases };
