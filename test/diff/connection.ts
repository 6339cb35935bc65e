// connection.ts -- the diff family of the first commands: PING, ECHO, QUIT, unknown names.

import type { DiffCase, Family } from "../src/redis-diff.ts";

const cases: DiffCase[] = [
  {
    name: "PING",
    actions: [{ cmd: ["PING"] }, { cmd: ["ping", "hello"] }, { cmd: ["PING", "a", "b"] }],
  },
  {
    name: "ECHO and its arity",
    actions: [{ cmd: ["ECHO", "x"] }, { cmd: ["ECHO"] }, { cmd: ["echo", "a", "b"] }],
  },
  { name: "names are case-insensitive", actions: [{ cmd: ["pInG"] }, { cmd: ["EcHo", "x"] }] },
  {
    name: "unknown commands",
    actions: [
      { cmd: ["NOSUCH"] },
      { cmd: ["nosuch", "a", "b c", "d\r\ne"] },
      { cmd: ["nosuch", "x".repeat(200), "y"] },
      { cmd: ["nosuch", ...Array.from({ length: 60 }, (_, i) => `arg${i}`)] },
    ],
  },
  { name: "QUIT", actions: [{ cmd: ["QUIT"] }] },
  {
    name: "QUIT with a pipelined command after it",
    actions: [{ raw: "*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n" }],
  },
];

export const family: Family = { name: "connection", since: 10, cases };
