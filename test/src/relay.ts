// relay.ts -- a hostile chat server: records what clients send, and sends them anything.
//
// The encryption steps promise that a keyed client holds up against the
// server itself. To test that we need a server that misbehaves on request:
// this one speaks enough of smallchat's protocol for a client to connect
// (welcome, /nick, /who, /join, /part, /msg, "nick> line" fan-out), keeps
// every line each client sent, and lets a test stop relaying, send a
// client any line it likes, replay a recorded one, or hold one back.
// Waiting is on events with a timeout, as in harness.ts.

import net from "node:net";
import { DEFAULT_TIMEOUT, type Match } from "./harness.ts";

export interface RelayPeer {
  id: number;
  nick: string;
  channel: string;
  /** Every line this client sent, in order. */
  lines: string[];
  /** Send this client one line (a "\n" is added). */
  send(line: string): void;
}

export interface SentLine {
  peer: RelayPeer;
  line: string;
}

export interface HostileRelay {
  port: number;
  peers: RelayPeer[];
  /** Every line any client sent, in order. */
  sent: SentLine[];
  /** Relay chat lines and /msg to the other clients (true by default). */
  forward: boolean;
  /** Answer /join with "* now talking in #x" (true by default). */
  confirmJoins: boolean;
  /** Answer nothing at all, not even /who (false by default). */
  mute: boolean;
  /** Wait for the n-th client (0-based) to connect. */
  peer(n: number, timeoutMs?: number): Promise<RelayPeer>;
  /** Wait for a line a client sent, after the last one waited for. */
  waitForSent(match: Match, timeoutMs?: number): Promise<SentLine>;
  close(): Promise<void>;
}

function matches(text: string, match: Match): boolean {
  if (typeof match === "string") return text.includes(match);
  if (match instanceof RegExp) return match.test(text);
  return match(text);
}

export async function startRelay(): Promise<HostileRelay> {
  const sockets = new Set<net.Socket>();
  let wake: Array<() => void> = [];
  const changed = () => {
    const waiting = wake;
    wake = [];
    for (const fn of waiting) fn();
  };
  const until = <T>(what: string, get: () => T | undefined, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        wake = wake.filter((fn) => fn !== check);
        const seen = relay.sent.slice(-20).map((s) => `${s.peer.nick}: ${s.line}`);
        reject(new Error(`relay: timed out waiting for ${what}; sent:\n${seen.join("\n")}`));
      }, timeoutMs);
      const check = () => {
        const value = get();
        if (value === undefined) {
          wake.push(check);
          return;
        }
        clearTimeout(timer);
        resolve(value);
      };
      check();
    });
  let taken = 0;

  const deliver = (from: RelayPeer, line: string) => {
    if (!relay.forward) return;
    const where = from.channel === "#lobby" ? "" : `${from.channel} `;
    for (const p of relay.peers) if (p !== from) p.send(`${where}${from.nick}> ${line}`);
  };

  const handle = (peer: RelayPeer, line: string) => {
    peer.lines.push(line);
    relay.sent.push({ peer, line });
    changed();
    if (relay.mute) return;
    const [cmd = "", ...args] = line.split(" ");
    const arg = args.join(" ");
    if (cmd === "/nick") {
      if (relay.peers.some((p) => p !== peer && p.nick === arg)) {
        peer.send(`ERR nick ${arg} is already taken`);
      } else {
        peer.nick = arg;
      }
    } else if (cmd === "/who") {
      peer.send(`Users: ${relay.peers.map((p) => p.nick).join(" ")}`);
    } else if (cmd === "/join") {
      if (!relay.confirmJoins) return;
      peer.channel = arg;
      peer.send(`* now talking in ${arg}`);
    } else if (cmd === "/part") {
      peer.send(`* left ${arg || peer.channel}`);
      peer.channel = "#lobby";
      peer.send("* now talking in #lobby");
    } else if (cmd === "/msg") {
      const target = relay.peers.find((p) => p.nick === args[0]);
      if (relay.forward) target?.send(`${peer.nick}> (private) ${args.slice(1).join(" ")}`);
    } else if (cmd.startsWith("/")) {
      peer.send("Unsupported command");
    } else {
      deliver(peer, line);
    }
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    const id = ++taken;
    const peer: RelayPeer = {
      id,
      nick: `user:${id}`,
      channel: "#lobby",
      lines: [],
      send: (line) => {
        if (!socket.destroyed) socket.write(`${line}\n`);
      },
    };
    relay.peers.push(peer);
    peer.send("Welcome to Simple Chat! Use /nick <nick> to set your nick.");
    let partial = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) handle(peer, line.replace(/\r$/, ""));
    });
    changed();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  let read = 0;

  const relay: HostileRelay = {
    port: (server.address() as net.AddressInfo).port,
    peers: [],
    sent: [],
    forward: true,
    confirmJoins: true,
    mute: false,
    peer: (n, timeoutMs = DEFAULT_TIMEOUT) => until(`client ${n}`, () => relay.peers[n], timeoutMs),
    waitForSent: (match, timeoutMs = DEFAULT_TIMEOUT) =>
      until(
        `a sent line ${String(match)}`,
        () => {
          for (let i = read; i < relay.sent.length; i++) {
            const item = relay.sent[i];
            if (item !== undefined && matches(item.line, match)) {
              read = i + 1;
              return item;
            }
          }
          return undefined;
        },
        timeoutMs,
      ),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return relay;
}
