// protocol.ts -- the diff family of RESP itself: framing, splits, pipelining, protocol errors.

import type { DiffCase, Family } from "../src/redis-diff.ts";

const cases: DiffCase[] = [
  {
    name: "inline commands",
    since: 11,
    actions: [{ raw: "PING\r\nECHO hello\r\necho \"a b\\x41\" 'c d'\r\n" }],
  },
  {
    name: "inline with a bare \\n and blank lines",
    since: 11,
    actions: [{ raw: "PING\n\r\n   \r\nPING x\n" }],
  },
  {
    name: "a request split at every byte",
    actions: [
      ...[..."*2\r\n$4\r\nECHO\r\n$5\r\nhi\nyo\r\n"].map((ch) => ({ raw: ch, sync: false })),
      { raw: "" },
    ],
  },
  {
    name: "pipelined: many requests in one write, answered in order",
    actions: [{ raw: `${"*1\r\n$4\r\nPING\r\n".repeat(50)}*2\r\n$4\r\nECHO\r\n$3\r\nend\r\n` }],
  },
  {
    name: "binary-safe bulk: every byte value",
    actions: [{ cmd: ["ECHO", Buffer.from(Array.from({ length: 256 }, (_, i) => i))] }],
  },
  { name: "empty multibulks are skipped", actions: [{ raw: "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n" }] },
  { name: "the two bytes after a bulk are not checked", actions: [{ raw: "*1\r\n$4\r\nPINGxx" }] },
  { name: "a header line ends at \\r plus any byte", actions: [{ raw: "*1\rx$4\rxPING\r\n" }] },
  {
    name: "replies before a protocol error are sent, then it closes",
    actions: [{ raw: "*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n" }],
  },
  { name: "invalid multibulk length", actions: [{ raw: "*abc\r\n" }] },
  { name: "multibulk length over INT_MAX", actions: [{ raw: "*2147483648\r\n" }] },
  { name: "negative bulk length", actions: [{ raw: "*1\r\n$-1\r\n" }] },
  { name: "bulk length over proto-max-bulk-len", actions: [{ raw: "*1\r\n$536870913\r\n" }] },
  { name: "expected $", actions: [{ raw: "*1\r\n:4\r\nPING\r\n" }] },
  { name: "expected $, got a newline", actions: [{ raw: "*1\r\n\n\r\n" }] },
  { name: "unbalanced quotes", since: 11, actions: [{ raw: 'ECHO "abc\r\n' }] },
  {
    name: "closing quote not followed by a space",
    since: 11,
    actions: [{ raw: "ECHO 'a'b\r\n" }],
  },
  {
    name: "inline request over 64 KB",
    since: 11,
    actions: [{ raw: "x".repeat(64 * 1024 + 1), sync: "close" }],
  },
  {
    name: "bulk count line over 64 KB",
    actions: [{ raw: `*1\r\n$${"1".repeat(64 * 1024)}`, sync: "close" }],
  },
  {
    name: "multibulk count line over 64 KB",
    actions: [{ raw: `*${"1".repeat(64 * 1024)}`, sync: "close" }],
  },
  {
    name: "a protocol error closes only that client",
    actions: [
      { conn: 1, cmd: ["PING"] },
      { raw: "*x\r\n" },
      { conn: 1, cmd: ["ECHO", "still here"] },
    ],
  },
  {
    name: "a 10 MB value echoed",
    actions: [{ cmd: ["ECHO", Buffer.alloc(10 * 1024 * 1024, "v")] }],
    except: {
      why: "nothing differs; the transcript is shortened to keep failure output readable",
      normalize: (t) => t.map((x) => (x.length > 200 ? `${x.slice(0, 100)}...(${x.length})` : x)),
    },
  },
];

export const family: Family = { name: "protocol", since: 10, cases };
