// clients.ts -- the diff family of what client libraries send first: HELLO, AUTH, SELECT,
// CLIENT, and MONITOR, TIME, SHUTDOWN.

import { type DiffCase, type Family, maskIds } from "../src/redis-diff.ts";

// CLIENT INFO/LIST lines and MONITOR lines carry ports, ids, times and
// memory figures that are each server's own: compare the rest (field
// names, their order, flags, arguments).
// (Transcript entries are JSON: a CRLF in them reads \r\n.)
export const maskNumbers = (transcript: string[]) =>
  transcript.map((t) =>
    t
      .replace(/([$=])\d+\\r\\n/g, "$1<len>\\r\\n")
      .replace(/=-?[0-9.:]+/g, "=<n>")
      .replace(/\+\d+\.\d{6} \[0 [0-9.:]+\]/, "+<time> [0 <addr>]"),
  );

const cases: DiffCase[] = [
  {
    name: "CLIENT: arity and unknown subcommands",
    actions: [{ cmd: ["CLIENT"] }, { cmd: ["client", "nosuch"] }, { cmd: ["CLIENT", "SETNAME"] }],
  },
  {
    name: "HELLO 2 and 3",
    actions: [{ cmd: ["HELLO", "3"] }, { cmd: ["HELLO", "2"] }, { cmd: ["HELLO"] }],
    except: { why: "connection ids are each server's own count", normalize: maskIds },
  },
  {
    name: "HELLO errors",
    actions: [
      { cmd: ["HELLO", "4"] },
      { cmd: ["HELLO", "x"] },
      { cmd: ["HELLO", "1"] },
      { cmd: ["HELLO", "3", "AUTH", "default"] },
      { cmd: ["HELLO", "3", "BOGUS"] },
      { cmd: ["HELLO", "3", "AUTH", "nobody", "pw"] },
      { cmd: ["HELLO", "3", "SETNAME", "bad name"] },
      { cmd: ["PING"] },
    ],
  },
  {
    name: "HELLO with AUTH and SETNAME",
    actions: [
      { cmd: ["HELLO", "3", "AUTH", "default", "any", "SETNAME", "me"] },
      { cmd: ["CLIENT", "GETNAME"] },
    ],
    except: { why: "connection ids are each server's own count", normalize: maskIds },
  },
  {
    name: "CLIENT SETNAME and GETNAME",
    actions: [
      { cmd: ["CLIENT", "GETNAME"] },
      { cmd: ["CLIENT", "SETNAME", "worker-1"] },
      { cmd: ["client", "getname"] },
      { cmd: ["CLIENT", "SETNAME", "has space"] },
      { cmd: ["CLIENT", "SETNAME", "caf\u00e9"] },
      { cmd: ["CLIENT", "SETNAME", ""] },
      { cmd: ["CLIENT", "GETNAME"] },
    ],
  },
  {
    name: "RESP3 nulls",
    actions: [{ cmd: ["HELLO", "3"] }, { cmd: ["CLIENT", "GETNAME"] }],
    except: { why: "connection ids are each server's own count", normalize: maskIds },
  },
  {
    name: "SELECT",
    actions: [
      { cmd: ["SELECT", "0"] },
      { cmd: ["SELECT", "x"] },
      { cmd: ["SELECT", "-1"] },
      { cmd: ["SELECT", "99999"] },
      { cmd: ["SELECT", "2147483648"] },
      { cmd: ["SELECT", "-2147483649"] },
    ],
  },
  {
    name: "HELLO takes its options left to right",
    actions: [
      { cmd: ["HELLO", "2", "AUTH", "a", "b", "extra"] },
      { cmd: ["HELLO", "2", "AUTH", "default", "b", "extra"] },
      { cmd: ["HELLO", "2", "extra", "AUTH", "a", "b"] },
      { cmd: ["HELLO", "2", "SETNAME", "first", "bogus"] },
      { cmd: ["CLIENT", "GETNAME"] },
      { cmd: ["HELLO", "2", "SETNAME", "bad name", "AUTH", "a", "b"] },
      { cmd: ["HELLO", "3", "AUTH", "default", "x", "SETNAME", "a", "SETNAME", "b"] },
      { cmd: ["CLIENT", "GETNAME"] },
      { cmd: ["HELLO", "2", "AUTH", "default"] },
    ],
    except: { why: "connection ids are each server's own count", normalize: maskIds },
  },
  {
    name: "AUTH without a password set",
    actions: [
      { cmd: ["AUTH", "x"] },
      { cmd: ["AUTH", "default", "x"] },
      { cmd: ["AUTH", "other", "x"] },
      { cmd: ["AUTH", "a", "b", "c"] },
      { cmd: ["AUTH"] },
      { cmd: ["auth", "default", ""] },
    ],
  },
  {
    name: "CLIENT SETINFO does not exist in 7.0",
    actions: [
      { cmd: ["CLIENT", "SETINFO", "lib-name", "x"] },
      { cmd: ["CLIENT", "SETINFO", "LIB-VER", "1.0"] },
      { cmd: ["client", "setinfo"] },
    ],
  },
  {
    name: "CLIENT HELP",
    actions: [
      { cmd: ["CLIENT", "HELP"] },
      { cmd: ["client", "help"] },
      { cmd: ["CLIENT", "HELP", "x"] },
    ],
  },
  {
    name: "CLIENT INFO: the fields of 7.0, in its order",
    actions: [
      { cmd: ["CLIENT", "INFO"] },
      { cmd: ["CLIENT", "SETNAME", "me"] },
      { cmd: ["client", "info"] },
      { cmd: ["CLIENT", "INFO", "x"] },
      { cmd: ["HELLO", "3"] },
      { cmd: ["CLIENT", "INFO"] },
    ],
    except: {
      why: "ports, ids, ages and memory figures are each server's own",
      normalize: (t) => maskNumbers(maskIds(t)),
    },
  },
  {
    name: "CLIENT LIST of a monitor",
    actions: [
      { conn: 2, cmd: ["MONITOR"] },
      { conn: 1, cmd: ["CLIENT", "LIST"] },
    ],
    except: {
      why: "ports, ids, ages and memory figures are each server's own",
      normalize: maskNumbers,
    },
  },
  {
    name: "CLIENT KILL: its errors and the filters that match nobody",
    actions: [
      { cmd: ["CLIENT", "KILL"] },
      { cmd: ["CLIENT", "KILL", "1.2.3.4:5"] },
      { cmd: ["CLIENT", "KILL", "ID"] },
      { cmd: ["CLIENT", "KILL", "ID", "abc"] },
      { cmd: ["CLIENT", "KILL", "ID", "0"] },
      { cmd: ["CLIENT", "KILL", "ID", "-5"] },
      { cmd: ["CLIENT", "KILL", "ID", "999999"] },
      { cmd: ["CLIENT", "KILL", "ADDR", "1.2.3.4:5"] },
      { cmd: ["CLIENT", "KILL", "LADDR", "1.2.3.4:5"] },
      { cmd: ["CLIENT", "KILL", "bogus", "x"] },
      { cmd: ["CLIENT", "KILL", "TYPE", "foo"] },
      { cmd: ["CLIENT", "KILL", "TYPE", "master"] },
      { cmd: ["CLIENT", "KILL", "TYPE", "slave"] },
      { cmd: ["CLIENT", "KILL", "SKIPME", "maybe"] },
      { cmd: ["CLIENT", "KILL", "USER", "nobody"] },
      { cmd: ["CLIENT", "KILL", "USER", "default"] },
      { cmd: ["CLIENT", "KILL", "MAXAGE", "5"] },
      { cmd: ["CLIENT", "KILL", "ID", "1", "TYPE"] },
      { cmd: ["CLIENT", "KILL", "TYPE", "normal"] },
    ],
  },
  {
    name: "CLIENT KILL SKIPME no closes the caller after its reply",
    actions: [{ cmd: ["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"] }],
  },
  {
    name: "TIME",
    actions: [{ cmd: ["TIME"] }, { cmd: ["TIME", "x"] }],
    except: {
      why: "the time is each server's own",
      normalize: (t) => t.map((f) => f.replace(/\$\d+\\r\\n\d+\\r\\n/g, "<n>")),
    },
  },
  {
    name: "SHUTDOWN's errors (a good SHUTDOWN stops the server: redis-safety.test.ts)",
    actions: [
      { cmd: ["SHUTDOWN", "bogus"] },
      { cmd: ["SHUTDOWN", "NOSAVE", "SAVE"] },
      { cmd: ["SHUTDOWN", "ABORT"] },
      { cmd: ["shutdown", "abort"] },
      { cmd: ["SHUTDOWN", "NOW", "FORCE", "ABORT"] },
      { cmd: ["SHUTDOWN", "SAVE", "ABORT"] },
      { cmd: ["PING"] },
    ],
  },
  {
    name: "MONITOR sees every other command, quoted, and no admin command",
    actions: [
      { conn: 1, cmd: ["MONITOR"] },
      { conn: 1, cmd: ["MONITOR"] },
      { conn: 2, cmd: ["ECHO", Buffer.from([0x61, 0x01, 0x5c, 0x22, 0x0a, 0xff, 0x20])] },
      { conn: 2, cmd: ["AUTH", "default", "secret"] },
      { conn: 2, cmd: ["HELLO", "2", "AUTH", "default", "secret", "SETNAME", "n"] },
      { conn: 2, cmd: ["CLIENT", "LIST"] },
      { conn: 2, cmd: ["nosuch"] },
      { conn: 2, cmd: ["ECHO"] },
      { conn: 2, cmd: ["CLIENT", "ID"] },
      { conn: 3, cmd: ["MONITOR", "x"] },
    ],
    except: {
      why: "times, ports and ids are each server's own",
      normalize: (t) =>
        maskNumbers(maskIds(t)).map((f) => f.replace(/^(\d+: ":)\d+\\r\\n"$/, "$1<id>")),
    },
  },
];

export const family: Family = { name: "clients", since: 11, cases };
