// pubsub.ts -- who listens to which channel and pattern, and PUBLISH's fan-out.
//
// Pub/sub is step 08's chat channels under other names: SUBSCRIBE is /join,
// UNSUBSCRIBE is /part, PUBLISH is a line said in a channel. So the
// membership is step 08's Channels class, unchanged, used twice: once for
// channels, once for patterns (PSUBSCRIBE news.*), each with its two maps
// (name -> subscribers for PUBLISH, subscriber -> names for a bare
// UNSUBSCRIBE and for a disconnect). Names are bytes; they are kept as
// latin1 strings, one char per byte, so a Map can key them.
//
// PUBLISH delivers to the channel's subscribers, then to every subscriber
// of every pattern that matches the channel (one message per matching
// pattern, as Redis does). The message frame is built once per protocol and
// copied into each subscriber's output buffer. A subscriber that does not
// read sees its buffer grow; past the pub/sub output limits it is dropped
// (Redis's client-output-buffer-limit pubsub: over the hard limit at once,
// over the soft limit if it stays there too long), and nobody else waits.

import { Channels } from "./channels.ts";
import { globMatch } from "./glob.ts";
import { encodePush } from "./resp.ts";
import type { Client } from "./state.ts";

// Redis's client-output-buffer-limit for pub/sub clients, in bytes and
// seconds; 0 turns a limit off.
export interface OutputLimits {
  pubsubOutputLimit: number;
  pubsubSoftLimit: number;
  pubsubSoftSeconds: number;
}

const NO_LIMIT = { maxChannels: Number.MAX_SAFE_INTEGER, maxPerMember: Number.MAX_SAFE_INTEGER };

const MESSAGE = Buffer.from("message");
const PMESSAGE = Buffer.from("pmessage");

export const nameOf = (b: Buffer) => b.toString("latin1");

export class PubSub {
  readonly channels = new Channels<Client>(NO_LIMIT);
  readonly patterns = new Channels<Client>(NO_LIMIT);
  // Each live pattern as bytes, for matching without converting per PUBLISH.
  private readonly patternBytes = new Map<string, Buffer>();

  // `overLimit` is told about a subscriber whose output passed a limit.
  constructor(
    private readonly limits: () => OutputLimits,
    private readonly overLimit: (c: Client, reason: string) => void,
  ) {}

  channelCount(c: Client): number {
    return this.channels.channelsOf(c).size;
  }

  patternCount(c: Client): number {
    return this.patterns.channelsOf(c).size;
  }

  // What SUBSCRIBE's confirmations count: channels plus patterns.
  count(c: Client): number {
    return this.channelCount(c) + this.patternCount(c);
  }

  // true if `c` was not subscribed to `channel` before.
  subscribe(c: Client, channel: Buffer): boolean {
    const res = this.channels.join(c, nameOf(channel));
    return res.ok && res.joined;
  }

  unsubscribe(c: Client, channel: string): boolean {
    return this.channels.part(c, channel) !== null;
  }

  psubscribe(c: Client, pattern: Buffer): boolean {
    const name = nameOf(pattern);
    const res = this.patterns.join(c, name);
    if (res.ok && res.joined && !this.patternBytes.has(name)) {
      this.patternBytes.set(name, Buffer.from(pattern));
    }
    return res.ok && res.joined;
  }

  punsubscribe(c: Client, pattern: string): boolean {
    if (this.patterns.part(c, pattern) === null) return false;
    if (this.patterns.get(pattern) === undefined) this.patternBytes.delete(pattern);
    return true;
  }

  // Forget everything `c` listened to: it is going away.
  removeClient(c: Client): void {
    this.channels.partAll(c);
    for (const p of this.patterns.partAll(c)) {
      if (this.patterns.get(p.name) === undefined) this.patternBytes.delete(p.name);
    }
  }

  // Deliver `message` on `channel`; returns how many deliveries were made.
  publish(channel: Buffer, message: Buffer): number {
    let receivers = 0;
    const ch = this.channels.get(nameOf(channel));
    if (ch !== undefined) {
      // Built on first need: most channels have only RESP2 or only RESP3
      // subscribers.
      let resp2: Buffer | null = null;
      let resp3: Buffer | null = null;
      for (const c of ch.members) {
        let frame: Buffer;
        if (c.out.proto === 2) frame = resp2 ??= encodePush(2, [MESSAGE, channel, message]);
        else frame = resp3 ??= encodePush(3, [MESSAGE, channel, message]);
        this.deliver(c, frame);
        receivers++;
      }
    }
    if (this.patternBytes.size > 0) {
      for (const [name, pattern] of this.patternBytes) {
        if (!globMatch(pattern, channel)) continue;
        const members = this.patterns.get(name)?.members;
        if (members === undefined) continue;
        const frames = [
          encodePush(2, [PMESSAGE, pattern, channel, message]),
          encodePush(3, [PMESSAGE, pattern, channel, message]),
        ];
        for (const c of members) {
          this.deliver(c, frames[c.out.proto - 2]!);
          receivers++;
        }
      }
    }
    return receivers;
  }

  // A client on its way out (QUIT, or dropped earlier in this iteration)
  // still counts as a receiver, as in Redis, but gets nothing more.
  private deliver(c: Client, frame: Buffer): void {
    if (c.gone || c.closing) return;
    c.out.raw(frame);
    const held = c.out.pending + c.socketHeld;
    const { pubsubOutputLimit: hard, pubsubSoftLimit: soft, pubsubSoftSeconds } = this.limits();
    if (hard > 0 && held > hard) {
      this.overLimit(
        c,
        `pubsub output buffer over ${hard} bytes (${held} held: client not reading)`,
      );
      return;
    }
    if (soft === 0 || held <= soft) {
      c.softLimitSince = 0; // Under the soft limit again: its clock restarts.
      return;
    }
    const now = Date.now();
    if (c.softLimitSince === 0) c.softLimitSince = now;
    else if (now - c.softLimitSince > pubsubSoftSeconds * 1000) {
      this.overLimit(
        c,
        `pubsub output buffer over ${soft} bytes for over ${pubsubSoftSeconds} s (${held} held: client not reading)`,
      );
    }
  }
}
