// redis-diff.ts -- run the same conversation with a real Redis and with ours, compare every byte.
//
// A case is a list of actions on numbered connections: send a command, or
// raw bytes (a split request, garbage). After each action every open
// connection is synced: we send it `PING <marker>` and read frames until
// the marker comes back (or the connection closes). Everything read is the
// transcript, one entry per RESP frame, byte for byte. Syncing this way
// needs no model of what should arrive: a PUBLISH's messages reach the
// subscribers before their marker does, on Redis as on our server, because
// both write in order. PING works in every mode (even subscribed RESP2).
//
// The same case runs against a private redis-server and against a step's
// server; the transcripts must be equal. Where they cannot be (a feature
// Redis 7.0 lacks, an order Redis leaves to its hash tables), the case says
// why in `except`, next to itself, and how the transcripts are compared.
//
// Cases come in families (test/diff/<family>.ts), each with the first step
// that has it: a later step adds its commands as one new family file.
//
// A connection inside MULTI cannot be synced: its PING would be queued,
// not answered. So the runner notes which connections sent MULTI (and not
// yet EXEC or DISCARD) and leaves them alone; what they receive meanwhile
// (+QUEUED, errors) is read at their next sync, after EXEC, in order. Send
// MULTI, EXEC and DISCARD as `cmd` actions, never as raw bytes.

import net from "node:net";

export type Arg = string | Buffer;

// `block: true` (step 19 on): the command parks its connection (BLPOP on
// an empty list). The runner waits until the server counts one more
// blocked client, so the order in which clients block is the same on both
// servers, and leaves the connection unsynced until its next action: its
// reply, whenever it comes, is read then.
export type Action =
  // One command as a multibulk request.
  | { conn?: number; cmd: Arg[]; block?: true }
  // Bytes as they are; `sync: false` leaves the connection alone afterwards
  // (the rest of a split request follows); `sync: "close"` reads until the
  // server closes it, sending nothing more (after bytes meant to be fatal:
  // a marker sent behind them could be in the server's socket unread when
  // it closes, and then TCP resets the connection, losing the reply).
  | { conn?: number; raw: string | Buffer; sync?: boolean | "close"; block?: true }
  // Hang up, as a client that goes away. If the connection was blocked,
  // the runner waits until the server has forgotten it.
  | { conn?: number; close: true }
  // Let time pass, for a key to expire: no event announces that.
  | { wait: number };

export interface DiffCase {
  name: string;
  /** The first step that has it, when later than its family's (the inline form: 11). */
  since?: number;
  actions: Action[];
  /** A documented difference: why, and how both transcripts are normalised before comparing. */
  except?: { why: string; normalize: (transcript: string[]) => string[] };
}

export interface Family {
  name: string;
  /** The first step whose server has these commands. */
  since: number;
  cases: DiffCase[];
}

export function encodeCommand(args: Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === "string" ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

/* ============================ Reading frames ============================== */

// Where the RESP2/RESP3 frame starting at `pos` ends, or -1 if incomplete.
export function frameEnd(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const nl = buf.indexOf("\r\n", pos);
  if (nl === -1) return -1;
  const type = String.fromCharCode(buf[pos]!);
  const n = Number(buf.toString("latin1", pos + 1, nl));
  let end = nl + 2;
  switch (type) {
    case "$":
    case "!":
    case "=":
      if (n < 0) return end;
      return buf.length >= end + n + 2 ? end + n + 2 : -1;
    case "*":
    case "~":
    case ">":
    case "%":
    case "|": {
      if (n < 0) return end;
      const count = type === "%" || type === "|" ? n * 2 : n;
      for (let i = 0; i < count; i++) {
        end = frameEnd(buf, end);
        if (end === -1) return -1;
      }
      // An attribute is followed by the frame it describes.
      return type === "|" ? frameEnd(buf, end) : end;
    }
    default:
      return end; // + - : _ # , ( are one line.
  }
}

class Conn {
  // What arrived and is not yet a frame, as chunks: joined only when a
  // frame may be complete, so a 10 MB reply that comes in 64 KB reads is
  // copied once, not once per read.
  private chunks: Buffer[] = [];
  private size = 0;
  private need = 0; // Bytes the frame at the head needs, when known.
  closed = false;
  private wake: (() => void) | null = null;

  constructor(readonly socket: net.Socket) {
    socket.on("data", (d: Buffer) => {
      this.chunks.push(d);
      this.size += d.length;
      if (this.size >= this.need) this.wake?.();
    });
    const close = () => {
      this.closed = true;
      this.wake?.();
    };
    socket.on("close", close);
    socket.on("error", close);
  }

  private joined(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0]!;
  }

  private take(end: number): string {
    const buf = this.joined();
    const f = buf.toString("latin1", 0, end);
    this.chunks = end < buf.length ? [buf.subarray(end)] : [];
    this.size = buf.length - end;
    return f;
  }

  // The next frame, or "(closed)", or "(timeout)".
  async frame(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const buf = this.joined();
      const end = buf.length === 0 ? -1 : frameEnd(buf, 0);
      if (end !== -1) {
        this.need = 0;
        return this.take(end);
      }
      if (this.closed) {
        const rest = this.take(buf.length);
        return rest.length > 0 ? `(closed after ${JSON.stringify(rest)})` : "(closed)";
      }
      // A bulk string says how long it is: wait for all of it at once.
      const header = buf[0] === 0x24 ? buf.indexOf("\r\n") : -1;
      this.need =
        header === -1 ? buf.length + 1 : header + 2 + Number(buf.toString("latin1", 1, header)) + 2;
      const left = deadline - Date.now();
      if (left <= 0) return "(timeout)";
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = null;
          resolve();
        };
      });
    }
  }
}

function connect(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(new Conn(socket));
    });
    socket.once("error", reject);
  });
}

/* ============================ Running a case ============================== */

// How long to wait for a frame. Every wait in a passing case ends on an
// event (a reply, the marker's PONG, a close), so this only bounds how long
// a failing case takes; it is generous because a loaded 2-core machine can
// take seconds to move a 10 MB reply through both servers at once.
const TIMEOUT_MS = 10000;

// Run `c` against the server on `port`; returns its transcript.
export async function runCase(port: number, c: DiffCase): Promise<string[]> {
  const conns = new Map<number, Conn>();
  const transcript: string[] = [];
  let marker = 0;
  const ended = new Set<number>(); // Connections closed (or silent) for good.
  const blocked = new Set<number>(); // Parked by a `block` action, not synced.
  let control: Conn | null = null; // Asks INFO for `block` actions; not in the transcript.
  const blockedClients = async (): Promise<number> => {
    control ??= await connect(port);
    control.socket.write(encodeCommand(["INFO", "clients"]));
    const info = await control.frame(TIMEOUT_MS);
    return Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? -1);
  };
  const waitBlocked = async (n: number): Promise<void> => {
    const deadline = Date.now() + TIMEOUT_MS;
    while ((await blockedClients()) !== n && Date.now() < deadline) {}
  };
  const inMulti = new Set<number>(); // Sent MULTI, not yet EXEC or DISCARD: not synced.
  const get = async (i: number) => {
    let conn = conns.get(i);
    if (conn === undefined) {
      conn = await connect(port);
      conns.set(i, conn);
    }
    return conn;
  };
  try {
    for (const action of c.actions) {
      if ("wait" in action) {
        await new Promise((resolve) => setTimeout(resolve, action.wait));
        continue;
      }
      const i = action.conn ?? 0;
      const conn = await get(i);
      if ("close" in action) {
        const wasBlocked = blocked.delete(i);
        const before = wasBlocked ? await blockedClients() : 0;
        conn.socket.destroy();
        if (wasBlocked) await waitBlocked(before - 1);
        ended.add(i);
        continue;
      }
      blocked.delete(i);
      const before = action.block ? await blockedClients() : 0;
      if ("cmd" in action) {
        conn.socket.write(encodeCommand(action.cmd));
        const name = action.cmd[0]!.toString().toLowerCase();
        if (name === "multi") inMulti.add(i);
        else if (name === "exec" || name === "discard") inMulti.delete(i);
      } else {
        conn.socket.write(action.raw);
        if (action.sync === false && !action.block) continue;
        if (action.sync === "close") {
          while (true) {
            const f = await conn.frame(TIMEOUT_MS);
            transcript.push(`${i}: ${JSON.stringify(f)}`);
            if (f.startsWith("(")) break;
          }
          ended.add(i);
          continue;
        }
      }
      if (action.block) {
        await waitBlocked(before + 1);
        blocked.add(i);
      }
      // The acting connection first: its reply proves the command ran, so
      // what it sent the others is on its way to them before their marker.
      const order = [...conns].sort((a, b) => (a[0] === i ? -1 : b[0] === i ? 1 : a[0] - b[0]));
      for (const [j, other] of order) {
        if (ended.has(j) || blocked.has(j) || inMulti.has(j)) continue;
        const m = `sync:${++marker}`;
        if (!other.closed) other.socket.write(encodeCommand(["PING", m]));
        while (true) {
          const f = await other.frame(TIMEOUT_MS);
          if (f.includes(m)) break; // The marker's own reply is the same on both sides.
          transcript.push(`${j}: ${JSON.stringify(f)}`);
          if (f.startsWith("(")) {
            ended.add(j);
            break;
          }
        }
      }
    }
    // QUIT and wait for the close: by then the server has forgotten the
    // connection's subscriptions, so the next case starts clean.
    // A connection still blocked cannot QUIT (QUIT would wait its turn):
    // close it, and wait until the server has forgotten it.
    if (blocked.size > 0) {
      for (const j of blocked) conns.get(j)!.socket.destroy();
      await waitBlocked(0);
    }
    // A connection still in MULTI has unread replies: they join the
    // transcript (QUIT is not queued: it closes the connection there too).
    for (const [j, conn] of conns) {
      if (ended.has(j) || blocked.has(j)) continue;
      if (!conn.closed) conn.socket.write(encodeCommand(["QUIT"]));
      while (true) {
        const f = await conn.frame(TIMEOUT_MS);
        if (f.startsWith("(")) break;
        if (inMulti.has(j)) transcript.push(`${j}: ${JSON.stringify(f)}`);
      }
    }
  } finally {
    for (const conn of conns.values()) conn.socket.destroy();
    (control as Conn | null)?.socket.destroy(); // Set inside blockedClients().
  }
  return transcript;
}

/* ============================ Helpers for cases =========================== */

// Hide the numbers that differ between two servers for reasons of no
// interest: connection ids (each server counts its own connections).
export function maskIds(transcript: string[]): string[] {
  return transcript.map((t) => t.replace(/(\\r\\nid\\r\\n:)\d+/g, "$1<id>"));
}

// A seeded generator (mulberry32): the same seed, the same "random" case.
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
