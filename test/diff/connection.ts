// connection.ts -- the diff family of connection and server commands.

import { type DiffCase, type Family, maskIds } from "../src/redis-diff.ts";

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
  {
    name: "container commands: arity and unknown subcommands",
    actions: [
      { cmd: ["CLIENT"] },
      { cmd: ["client", "nosuch"] },
      { cmd: ["CONFIG"] },
      { cmd: ["config", "nosuch", "x"] },
      { cmd: ["PUBSUB", "nosuch"] },
      { cmd: ["CLIENT", "SETNAME"] },
      { cmd: ["COMMAND", "COUNT", "x"] },
    ],
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
    ],
  },
  { name: "QUIT", actions: [{ cmd: ["QUIT"] }] },
  { name: "QUIT with a pipelined command after it", actions: [{ raw: "QUIT\r\nPING\r\n" }] },
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
    name: "COMMAND INFO of an unknown command",
    actions: [
      { cmd: ["COMMAND", "INFO", "nosuchcommand"] },
      { cmd: ["COMMAND", "DOCS", "nosuchcommand"] },
    ],
  },
];

export const family: Family = { name: "connection", since: 9, cases };
