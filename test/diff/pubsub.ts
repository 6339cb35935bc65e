// pubsub.ts -- the diff family of pub/sub, scripted and seeded-random.

import { type Action, type DiffCase, type Family, maskIds, random } from "../src/redis-diff.ts";
import { maskNumbers } from "./clients.ts";
import { withoutKeySpecs } from "./introspection.ts";

const cases: DiffCase[] = [
  {
    name: "SUBSCRIBE, PUBLISH, UNSUBSCRIBE",
    actions: [
      { conn: 1, cmd: ["SUBSCRIBE", "news", "sport"] },
      { cmd: ["PUBLISH", "news", "hello"] },
      { cmd: ["PUBLISH", "nobody", "x"] },
      { conn: 1, cmd: ["UNSUBSCRIBE", "news"] },
      { cmd: ["PUBLISH", "news", "gone"] },
      { conn: 1, cmd: ["UNSUBSCRIBE"] },
      { conn: 1, cmd: ["UNSUBSCRIBE"] },
      { conn: 1, cmd: ["ECHO", "normal again"] },
    ],
  },
  {
    name: "subscribing twice counts once",
    actions: [
      { cmd: ["SUBSCRIBE", "a", "a"] },
      { cmd: ["SUBSCRIBE", "a"] },
      { cmd: ["UNSUBSCRIBE", "b"] },
    ],
  },
  {
    name: "PSUBSCRIBE with glob patterns",
    actions: [
      { conn: 1, cmd: ["PSUBSCRIBE", "news.*", "h?llo", "[a-c]x", "\\*"] },
      { cmd: ["PUBLISH", "news.tech", "1"] },
      { cmd: ["PUBLISH", "hallo", "2"] },
      { cmd: ["PUBLISH", "bx", "3"] },
      { cmd: ["PUBLISH", "*", "4"] },
      { cmd: ["PUBLISH", "dx", "5"] },
      { cmd: ["PUBSUB", "NUMPAT"] },
      { conn: 1, cmd: ["PUNSUBSCRIBE", "news.*"] },
      { cmd: ["PUBLISH", "news.tech", "6"] },
      { conn: 1, cmd: ["PUNSUBSCRIBE", "h?llo", "[a-c]x", "\\*"] },
      { conn: 1, cmd: ["PUNSUBSCRIBE"] },
    ],
  },
  {
    name: "a channel and a pattern both matching: two deliveries",
    actions: [
      { conn: 1, cmd: ["SUBSCRIBE", "news.tech"] },
      { conn: 1, cmd: ["PSUBSCRIBE", "news.*"] },
      { cmd: ["PUBLISH", "news.tech", "twice"] },
    ],
  },
  {
    name: "subscribed RESP2 clients may only (un)subscribe, PING and QUIT",
    actions: [
      { cmd: ["SUBSCRIBE", "a"] },
      { cmd: ["ECHO", "x"] },
      { cmd: ["PUBLISH", "a", "x"] },
      { cmd: ["PING"] },
      { cmd: ["PING", "msg"] },
      { cmd: ["ECHO"] },
      { cmd: ["NOSUCH"] },
      { cmd: ["PSUBSCRIBE", "b*"] },
      { cmd: ["UNSUBSCRIBE"] },
      { cmd: ["ECHO", "still subscribed to a pattern"] },
      { cmd: ["PUNSUBSCRIBE"] },
      { cmd: ["ECHO", "free"] },
    ],
  },
  {
    name: "RESP3 subscribers get push frames and may run any command",
    actions: [
      { conn: 1, cmd: ["HELLO", "3"] },
      { conn: 1, cmd: ["SUBSCRIBE", "a"] },
      { conn: 1, cmd: ["ECHO", "allowed"] },
      { cmd: ["PUBLISH", "a", "pushed"] },
      { conn: 1, cmd: ["PSUBSCRIBE", "a*"] },
      { cmd: ["PUBLISH", "a", "both"] },
      { conn: 1, cmd: ["UNSUBSCRIBE", "a"] },
      { conn: 1, cmd: ["PUNSUBSCRIBE"] },
      { conn: 1, cmd: ["UNSUBSCRIBE"] },
    ],
    except: { why: "connection ids are each server's own count", normalize: maskIds },
  },
  {
    name: "PUBSUB CHANNELS and NUMSUB",
    actions: [
      { conn: 1, cmd: ["SUBSCRIBE", "news"] },
      { conn: 2, cmd: ["SUBSCRIBE", "news", "sport"] },
      { cmd: ["PUBSUB", "CHANNELS", "n*"] },
      { cmd: ["PUBSUB", "CHANNELS", "x*"] },
      { cmd: ["PUBSUB", "NUMSUB", "news", "sport", "nothing"] },
      { cmd: ["PUBSUB", "NUMSUB"] },
      { cmd: ["PUBSUB", "NUMPAT"] },
      { cmd: ["PUBLISH", "news", "to two"] },
    ],
  },
  {
    name: "binary channel names and payloads",
    actions: [
      { conn: 1, cmd: ["SUBSCRIBE", Buffer.from([0, 0xff, 0x0d, 0x0a])] },
      { conn: 1, cmd: ["PSUBSCRIBE", Buffer.from([0x2a, 0xff])] },
      { cmd: ["PUBLISH", Buffer.from([0, 0xff, 0x0d, 0x0a]), Buffer.from([1, 2, 0, 0xfe])] },
      { cmd: ["PUBLISH", Buffer.from([0x41, 0xff]), "via pattern"] },
    ],
  },
  {
    name: "bare UNSUBSCRIBE of one channel",
    actions: [
      { cmd: ["SUBSCRIBE", "only"] },
      { cmd: ["UNSUBSCRIBE"] },
      { cmd: ["PSUBSCRIBE", "p*"] },
      { cmd: ["PUNSUBSCRIBE"] },
    ],
  },
  {
    name: "PUBSUB: unknown subcommand, PUBSUB HELP",
    actions: [
      { cmd: ["PUBSUB", "nosuch"] },
      { cmd: ["PUBSUB", "HELP"] },
      { cmd: ["pubsub", "help"] },
      { cmd: ["PUBSUB", "HELP", "x"] },
    ],
  },
  {
    name: "PUBSUB subcommands called the wrong way",
    actions: [
      { cmd: ["PUBSUB", "CHANNELS", "a", "b"] },
      { cmd: ["pubsub", "channels", "a", "b", "c"] },
      { cmd: ["PUBSUB", "NUMPAT", "x"] },
      { cmd: ["PUBSUB", "CHANNELS", "*"] },
    ],
  },
  {
    name: "CLIENT LIST of a subscriber and a monitor",
    actions: [
      { conn: 2, cmd: ["SUBSCRIBE", "news"] },
      { conn: 3, cmd: ["MONITOR"] },
      { conn: 1, cmd: ["CLIENT", "LIST"] },
    ],
    except: {
      why: "ports, ids, ages and memory figures are each server's own",
      normalize: maskNumbers,
    },
  },
  {
    name: "CLIENT KILL TYPE pubsub closes the subscriber",
    actions: [
      { conn: 2, cmd: ["SUBSCRIBE", "news"] },
      { conn: 1, cmd: ["CLIENT", "KILL", "TYPE", "pubsub"] },
      { conn: 1, cmd: ["PUBLISH", "news", "x"] },
      { conn: 1, cmd: ["CLIENT", "KILL", "TYPE", "pubsub"] },
    ],
  },
  {
    name: "COMMAND INFO and DOCS of the pub/sub commands",
    actions: [
      { cmd: ["COMMAND", "INFO", "subscribe", "unsubscribe", "psubscribe", "punsubscribe"] },
      { cmd: ["COMMAND", "INFO", "publish", "pubsub|channels", "pubsub|numsub", "pubsub|numpat"] },
      { cmd: ["COMMAND", "DOCS", "publish", "subscribe", "pubsub|numsub", "psubscribe"] },
    ],
    except: withoutKeySpecs,
  },
];

// Seeded-random conversations among three connections: commands drawn from
// a small vocabulary, so that channels collide often. Bare (P)UNSUBSCRIBE
// with several subscriptions and PUBSUB CHANNELS with several answers are
// left out: Redis lists those in hash-table order.
function randomCase(seed: number): DiffCase {
  const rnd = random(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const channels = ["a", "b", "ab", "news.x", "n"];
  const patterns = ["a*", "?", "n*", "[ab]*", "*x", "news.?"];
  const actions: Action[] = [];
  for (let i = 0; i < 40; i++) {
    const conn = Math.floor(rnd() * 3);
    const some = (xs: string[]) =>
      Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => pick(xs));
    const cmd = pick<() => string[]>([
      () => ["SUBSCRIBE", ...some(channels)],
      () => ["UNSUBSCRIBE", ...some(channels)],
      () => ["PSUBSCRIBE", ...some(patterns)],
      () => ["PUNSUBSCRIBE", ...some(patterns)],
      () => ["PUBLISH", pick(channels), `m${i}`],
      () => ["PUBLISH", pick(channels), `m${i}`],
      () => ["PUBSUB", "NUMSUB", ...some(channels)],
      () => ["PUBSUB", "NUMPAT"],
      () => ["PING"],
      () => ["ECHO", `e${i}`],
      () => ["HELLO", pick(["2", "3"])],
      () => ["bogus", "k"],
    ])();
    actions.push({ conn, cmd });
  }
  return {
    name: `random conversation, seed ${seed}`,
    actions,
    except: { why: "HELLO shows connection ids, each server's own count", normalize: maskIds },
  };
}

for (const seed of [1, 2, 3, 4, 5]) cases.push(randomCase(seed));

// Seeded-random glob patterns against random channel names, from an
// alphabet full of the characters that matter (* ? [ ] ^ - \\): one
// pattern at a time, so the messages cannot come in hash-table order.
function globCase(seed: number): DiffCase {
  const rnd = random(seed);
  const word = (alphabet: string, max: number) =>
    Array.from(
      { length: Math.floor(rnd() * max) },
      () => alphabet[Math.floor(rnd() * alphabet.length)],
    ).join("");
  const actions: Action[] = [];
  for (let i = 0; i < 12; i++) {
    const pattern = word("ab*?[]^-\\", 7);
    if (pattern === "") continue;
    actions.push({ conn: 1, cmd: ["PSUBSCRIBE", pattern] });
    for (let j = 0; j < 6; j++) actions.push({ cmd: ["PUBLISH", word("ab-]^[\\*", 5), "m"] });
    actions.push({ conn: 1, cmd: ["PUNSUBSCRIBE", pattern] });
  }
  return { name: `glob patterns, seed ${seed}`, actions };
}

for (const seed of [11, 12, 13, 14, 15, 16]) cases.push(globCase(seed));

export const family: Family = { name: "pubsub", since: 14, cases };
