// channels.ts -- who is in which channel, kept both ways round.
//
// A channel is a name and a set of members. The server asks two questions
// about that membership, and each needs its own map:
//
// - "Who is in #rust?", on every line said there (the fan-out). So: channel
//   name -> channel, and each channel keeps its set of members. A line in
//   #rust then costs O(members of #rust), not O(all clients).
// - "Which channels is alice in?", when she disconnects (leave them all and
//   tell each one she quit) and when she joins one more (the per-client
//   limit). So: member -> set of its channels. Without this second map a
//   disconnect would scan every channel on the server.
//
// Two maps holding the same facts must never disagree, so, as createClient,
// freeClient and setNick guard the two client maps in server.ts, only the
// methods of this class touch them: join, part and partAll change both maps
// together, everything else only reads.
//
// Redis keeps exactly this pair for pub/sub: server.pubsub_channels (channel
// -> the clients subscribed to it), walked by PUBLISH, and each client's
// own pubsub_channels (the channels it subscribed to), walked by a bare
// UNSUBSCRIBE and by freeClient(). The Redis steps reuse this class for
// SUBSCRIBE and PUBLISH, which is why it knows nothing about chat: members
// can be of any type (the server uses its Client, the tests plain strings),
// and there are no nicks, sockets or messages in here.

// A channel as the rest of the program sees it: read-only. Members are kept
// in join order (a Set remembers insertion order), so /names lists them so.
export interface Channel<M> {
  readonly name: string;
  readonly members: ReadonlySet<M>;
  readonly permanent: boolean; // Never disappears, even when empty.
}

// The same channel, as only this file may change it.
interface MutableChannel<M> extends Channel<M> {
  readonly members: Set<M>;
}

export interface ChannelLimits {
  maxChannels: number; // Channels on the server, permanent ones included.
  maxPerMember: number; // Channels one member may be in at once.
  permanent?: string[]; // Created now, kept forever.
}

// What join() did. A refused join changes nothing; `limit` says which limit
// refused it.
export type JoinResult<M> =
  | { ok: true; channel: Channel<M>; joined: boolean } // joined: false if already a member.
  | { ok: false; limit: "member" | "server" };

const NO_CHANNELS: ReadonlySet<never> = new Set();

export class Channels<M> {
  // Channel name -> channel (with its members): for fan-out and lookups.
  private readonly byName = new Map<string, MutableChannel<M>>();
  // Member -> its channels, in the order it joined them: for cleanup and
  // limits. A member in no channel has no entry, so nothing leaks.
  private readonly byMember = new Map<M, Set<MutableChannel<M>>>();

  constructor(private readonly limits: ChannelLimits) {
    for (const name of limits.permanent ?? []) {
      this.byName.set(name, { name, members: new Set(), permanent: true });
    }
  }

  // How many channels exist right now, permanent ones included.
  get count(): number {
    return this.byName.size;
  }

  // The channel called `name`, if it exists. O(1).
  get(name: string): Channel<M> | undefined {
    return this.byName.get(name);
  }

  // The channels `member` is in, oldest join first. O(1).
  channelsOf(member: M): ReadonlySet<Channel<M>> {
    return this.byMember.get(member) ?? NO_CHANNELS;
  }

  // Put `member` in channel `name`, creating the channel on its first join.
  // Joining a channel one is already in is not an error: it changes nothing.
  // O(1): two Map lookups and two Set insertions.
  join(member: M, name: string): JoinResult<M> {
    let channel = this.byName.get(name);
    if (channel?.members.has(member)) return { ok: true, channel, joined: false };
    const mine = this.byMember.get(member);
    if ((mine?.size ?? 0) >= this.limits.maxPerMember) return { ok: false, limit: "member" };
    if (channel === undefined) {
      if (this.byName.size >= this.limits.maxChannels) return { ok: false, limit: "server" };
      channel = { name, members: new Set(), permanent: false };
      this.byName.set(name, channel);
    }
    channel.members.add(member);
    if (mine === undefined) this.byMember.set(member, new Set([channel]));
    else mine.add(channel);
    return { ok: true, channel, joined: true };
  }

  // Take `member` out of channel `name`. Returns the channel it left (whose
  // members are then the ones to tell), or null if it was not in it. A
  // channel left empty disappears, unless it is permanent. O(1).
  part(member: M, name: string): Channel<M> | null {
    const channel = this.byName.get(name);
    const mine = this.byMember.get(member);
    if (channel === undefined || mine === undefined || !mine.has(channel)) return null;
    mine.delete(channel);
    if (mine.size === 0) this.byMember.delete(member);
    this.leave(member, channel);
    return channel;
  }

  // Take `member` out of every channel it is in: called when it goes away.
  // Returns the channels it left, for the "quit" notices. O(channels of
  // the member): the second map is what makes this cheap.
  partAll(member: M): Channel<M>[] {
    const mine = this.byMember.get(member);
    if (mine === undefined) return [];
    this.byMember.delete(member);
    for (const channel of mine) this.leave(member, channel);
    return [...mine];
  }

  // Every channel, sorted by name. Simple on purpose: O(C log C) for C
  // channels on every call, fine for a /list now and then; a server with
  // millions of channels would keep them sorted, or page the answer.
  list(): Channel<M>[] {
    const all = [...this.byName.values()];
    return all.sort((a, b) => (a.name < b.name ? -1 : 1)); // Names are unique: never equal.
  }

  // The channel side of a part: drop the member, and the channel if that
  // left it empty.
  private leave(member: M, channel: MutableChannel<M>): void {
    channel.members.delete(member);
    if (channel.members.size === 0 && !channel.permanent) this.byName.delete(channel.name);
  }
}
