// commands/pubsub.ts -- SUBSCRIBE, PUBLISH and friends: step 08's channels, spoken in RESP.
//
// Every (un)subscription is confirmed with its own three-element frame,
// ["subscribe", channel, how many channels and patterns the client now
// has], even when nothing changed, exactly as Redis sends them: client
// libraries count these frames to know when a SUBSCRIBE is done. On a
// RESP3 connection they are push frames, like the messages themselves.
// A client with at least one subscription is "subscribed": on RESP2 it may
// then only (un)subscribe, PING and QUIT (commands.ts enforces that).

import { type CommandSpec, replyHelp, subcommandSyntaxError } from "../command.ts";
import { globMatch } from "../glob.ts";
import { nameOf } from "../pubsub.ts";
import { type Client, Server } from "../state.ts";

type Kind = "subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe";

const WORDS: Record<Kind, Buffer> = {
  subscribe: Buffer.from("subscribe"),
  unsubscribe: Buffer.from("unsubscribe"),
  psubscribe: Buffer.from("psubscribe"),
  punsubscribe: Buffer.from("punsubscribe"),
};

// One confirmation frame. `name` null: "unsubscribed from nothing".
function confirm(c: Client, kind: Kind, name: Buffer | null): void {
  c.out.push(3);
  c.out.bulk(WORDS[kind]);
  if (name === null) c.out.null();
  else c.out.bulk(name);
  c.out.integer(Server.pubsub.count(c));
}

function updateFlag(c: Client): void {
  c.pubsub = Server.pubsub.count(c) > 0;
}

function subscribe(c: Client, argv: Buffer[]): void {
  for (let j = 1; j < argv.length; j++) {
    Server.pubsub.subscribe(c, argv[j]!);
    confirm(c, "subscribe", argv[j]!);
  }
  updateFlag(c);
}

function psubscribe(c: Client, argv: Buffer[]): void {
  for (let j = 1; j < argv.length; j++) {
    Server.pubsub.psubscribe(c, argv[j]!);
    confirm(c, "psubscribe", argv[j]!);
  }
  updateFlag(c);
}

// UNSUBSCRIBE [channel ...]; none named: all of them.
function unsubscribe(c: Client, argv: Buffer[]): void {
  const ps = Server.pubsub;
  if (argv.length === 1) {
    const all = [...ps.channels.channelsOf(c)].map((ch) => ch.name);
    for (const name of all) {
      ps.unsubscribe(c, name);
      confirm(c, "unsubscribe", Buffer.from(name, "latin1"));
    }
    if (all.length === 0) confirm(c, "unsubscribe", null);
  } else {
    for (let j = 1; j < argv.length; j++) {
      ps.unsubscribe(c, nameOf(argv[j]!));
      confirm(c, "unsubscribe", argv[j]!);
    }
  }
  updateFlag(c);
}

function punsubscribe(c: Client, argv: Buffer[]): void {
  const ps = Server.pubsub;
  if (argv.length === 1) {
    const all = [...ps.patterns.channelsOf(c)].map((p) => p.name);
    for (const name of all) {
      ps.punsubscribe(c, name);
      confirm(c, "punsubscribe", Buffer.from(name, "latin1"));
    }
    if (all.length === 0) confirm(c, "punsubscribe", null);
  } else {
    for (let j = 1; j < argv.length; j++) {
      ps.punsubscribe(c, nameOf(argv[j]!));
      confirm(c, "punsubscribe", argv[j]!);
    }
  }
  updateFlag(c);
}

function publish(c: Client, argv: Buffer[]): void {
  c.out.integer(Server.pubsub.publish(argv[1]!, argv[2]!));
}

// PUBSUB CHANNELS [pattern]: the channels with at least one subscriber.
function pubsubChannels(c: Client, argv: Buffer[]): void {
  if (argv.length > 3) throw subcommandSyntaxError(argv);
  const pattern = argv[2];
  const names: Buffer[] = [];
  for (const ch of Server.pubsub.channels.list()) {
    const b = Buffer.from(ch.name, "latin1");
    if (pattern === undefined || globMatch(pattern, b)) names.push(b);
  }
  c.out.array(names.length);
  for (const b of names) c.out.bulk(b);
}

// PUBSUB NUMSUB [channel ...]: each channel and its subscriber count.
function pubsubNumsub(c: Client, argv: Buffer[]): void {
  c.out.array((argv.length - 2) * 2);
  for (let j = 2; j < argv.length; j++) {
    c.out.bulk(argv[j]!);
    c.out.integer(Server.pubsub.channels.get(nameOf(argv[j]!))?.members.size ?? 0);
  }
}

const PUBSUB_HELP = [
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
];

const G = "pubsub";
const SUB_FLAGS: CommandSpec["flags"] = ["pubsub", "noscript", "loading", "stale"];

export const pubsubCommands: CommandSpec[] = [
  {
    name: "subscribe",
    arity: -2,
    flags: SUB_FLAGS,
    handler: subscribe,
    pubsubContext: true,
    group: G,
    summary: "Listen for messages published to the given channels",
    since: "2.0.0",
    complexity: "O(N) where N is the number of channels to subscribe to.",
    syntax: "channel...",
  },
  {
    name: "unsubscribe",
    arity: -1,
    flags: SUB_FLAGS,
    handler: unsubscribe,
    pubsubContext: true,
    group: G,
    summary: "Stop listening for messages posted to the given channels",
    since: "2.0.0",
    complexity: "O(N) where N is the number of clients already subscribed to a channel.",
    syntax: "[channel...]",
  },
  {
    name: "psubscribe",
    arity: -2,
    flags: SUB_FLAGS,
    handler: psubscribe,
    pubsubContext: true,
    group: G,
    summary: "Listen for messages published to channels matching the given patterns",
    since: "2.0.0",
    complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
    syntax: "pattern=(pattern:pattern)...",
  },
  {
    name: "punsubscribe",
    arity: -1,
    flags: SUB_FLAGS,
    handler: punsubscribe,
    pubsubContext: true,
    group: G,
    summary: "Stop listening for messages posted to channels matching the given patterns",
    since: "2.0.0",
    complexity:
      "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
    syntax: "[pattern:pattern...]",
  },
  {
    name: "publish",
    arity: 3,
    flags: ["pubsub", "loading", "stale", "fast"],
    handler: publish,
    group: G,
    summary: "Post a message to a channel",
    since: "2.0.0",
    complexity:
      "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
    syntax: "channel message",
  },
  {
    name: "pubsub",
    arity: -2,
    flags: [],
    group: G,
    summary: "A container for Pub/Sub commands",
    since: "2.8.0",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "channels",
        arity: -2,
        flags: ["pubsub", "loading", "stale"],
        handler: pubsubChannels,
        group: G,
        summary: "List active channels",
        since: "2.8.0",
        complexity:
          "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        syntax: "[pattern:pattern]",
      },
      {
        name: "numsub",
        arity: -2,
        flags: ["pubsub", "loading", "stale"],
        handler: pubsubNumsub,
        group: G,
        summary: "Get the count of subscribers for channels",
        since: "2.8.0",
        complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        syntax: "[channel...]",
      },
      {
        name: "numpat",
        arity: 2,
        flags: ["pubsub", "loading", "stale"],
        handler: (c) => c.out.integer(Server.pubsub.patterns.count),
        group: G,
        summary: "Get the count of unique patterns pattern subscriptions",
        since: "2.8.0",
        complexity: "O(1)",
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        handler: (c, argv) => replyHelp(c, argv, PUBSUB_HELP),
        group: G,
        summary: "Returns helpful text about the different subcommands.",
        since: "6.2.0",
      },
    ],
  },
];
