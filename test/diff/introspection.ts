// introspection.ts -- the diff family of what the command table says about itself:
// COMMAND (INFO, DOCS, LIST with its filters, COUNT, HELP). INFO and
// CONFIG, a step earlier, are in info.ts.
//
// Redis lists commands in the order of its hash table, whose hash function
// has a random seed: the order changes with every start. Those cases
// compare the items sorted.

import type { DiffCase, Family } from "../src/redis-diff.ts";

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
    name: "COMMAND HELP",
    actions: [{ cmd: ["COMMAND", "HELP"] }],
  },
  {
    name: "COMMAND: a subcommand's arity",
    actions: [{ cmd: ["COMMAND", "COUNT", "x"] }],
  },
  {
    name: "COMMAND INFO of an unknown command",
    actions: [
      { cmd: ["COMMAND", "INFO", "nosuchcommand"] },
      { cmd: ["COMMAND", "DOCS", "nosuchcommand"] },
    ],
  },
];

export const family: Family = { name: "introspection", since: 13, cases };
