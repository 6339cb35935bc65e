// load.ts -- the client side of the benchmark: many chat clients in one process.
//
// fanout.ts starts this file as a child process (one or more: --workers)
// and tells it, over Node's IPC channel, to open N connections to a chat
// server, make them talk and count what they hear. The load lives in its
// own process so that it never shares a CPU with the orchestration, and so
// that several of them can split the clients if one is not enough.
//
// Every message a client sends is one line carrying a marker:
//
//     ~b <phase> <sender> <seq> <sendTimeMicros> ~e
//
// phase is "w" (warm-up), "m" (measured) or "s" (the sync round). Receivers
// do not count lines: they scan the bytes they get for markers. Step 01
// treats each read as a line, so under load two of our lines arrive merged
// behind one "nick> " prefix, or one line arrives in two pieces; counting
// lines would call the first a loss and the second a duplicate. Counting
// markers gets both right. A marker cut in two by a read of ours is kept
// as a tail and completed by the next read. (A line that step 01 itself
// cuts inside its marker, with other clients' messages relayed in between,
// is counted as lost: what the reader got were two broken lines.)
//
// The send time is process.hrtime(), the machine's monotonic clock, which
// every process on the machine shares: the latency of a message from a
// sender in one load process to a receiver in another is still exact.
//
// The same load can speak RESP to a real redis-server, the baseline every
// report is anchored to. A client is then two connections, as Redis pub/sub
// wants: one SUBSCRIBEd to its group's channel (it receives) and one that
// PUBLISHes the same marker lines (it sends). Redis has no "everybody but
// the sender": the sender's own subscriber hears the line too, so a line to
// a group of N is N deliveries there, N-1 in the chat. fanout.ts sizes rates
// and windows in deliveries, so both servers get the same work per second.

import net from "node:net";
import { Histogram } from "./stats.ts";

/* ============================ Messages ====================================
 * What fanout.ts and a load process say to each other. Each request gets
 * exactly one reply, in order, or an {t: "error"}.
 * ======================================================================== */

export type Mode = "flat" | "rate";

/** What the server speaks: our chat's lines, or RESP pub/sub to redis-server. */
export type Protocol = "chat" | "resp";

export interface OpenRequest {
  t: "open";
  host: string;
  port: number;
  /** Global index of this process's first client; it owns first..first+count-1. */
  first: number;
  count: number;
  /** Group of every client in the whole run (not just ours), by global index. */
  groups: number[];
  /** Lines each of our clients sends right after its welcome line. */
  setup: string[][];
  protocol: Protocol;
}

export interface RunRequest {
  t: "run";
  mode: Mode;
  /** Flat-out: lines this process keeps in flight, all its clients together. */
  window: number;
  /** Fixed rate: messages per second each client sends. */
  ratePerClient: number;
  warmupMs: number;
  measureMs: number;
  slices: number;
}

export type Request =
  | OpenRequest
  | { t: "sync"; timeoutMs: number }
  | RunRequest
  | { t: "count" }
  | { t: "report" }
  | { t: "close" };

export interface LoadReport {
  /** Measured messages sent, and the deliveries they should cause. */
  sent: number;
  expected: number;
  /** Measured messages received (their markers), window or not. */
  received: number;
  /** Deliveries of any phase received in each slice of the measured window. */
  slices: number[];
  sliceMs: number;
  /** Latency histogram of measured messages, microseconds. */
  latency: number[];
  /** CPU time this process used during the measured window / its length. */
  cpu: number;
  /** Connections the server closed on us. */
  closed: number;
  /** Markers that started but made no sense (cut by the server). */
  corrupt: number;
}

export type Reply =
  | { t: "opened" }
  | { t: "synced" }
  | { t: "sent"; sent: number; expected: number }
  | { t: "count"; received: number }
  | { t: "report"; report: LoadReport }
  | { t: "closed" }
  | { t: "error"; message: string };

/* ============================ Clients =====================================
 * One BenchClient per connection. In flat-out mode every sender has an
 * "acker": another of our clients in the same group, whose receipt of the
 * sender's line says the server has fanned it out.
 *
 * Why a window: a sender that writes as fast as it can measures nothing but
 * how fast queues grow, in the server's output buffers and in the kernel,
 * until step 02+ drops the receivers for not reading (1 MiB). A window
 * keeps a bounded number of lines in flight, enough to keep the server
 * busy all the time, and lets it run at its own speed.
 *
 * The window is shared by all our clients, not one per client: a slot
 * freed by an ack goes to the next sender in turn. fanout.ts sizes it in
 * deliveries (lines x recipients), so the server has the same amount of
 * work queued at 10 clients as at 500; with one line per client in flight,
 * 500 clients would queue 250,000 deliveries, seconds of work for a slow
 * step, and the latency would measure nothing but that queue.
 * ======================================================================== */

interface BenchClient {
  idx: number; // Global index: what goes in the marker.
  group: number;
  socket: net.Socket;
  /** RESP: the connection that PUBLISHes; chat: the same socket again. */
  out: net.Socket;
  channel: string; // RESP: "$<len>\r\nc<group>\r\n", ready to send.
  welcomed: boolean;
  tail: Buffer | null; // Bytes from a marker that the last read cut.
  syncSeen: number;
  barrier: { text: string; done: () => void } | null; // Waiting for the setup's barrier reply.
  seq: number;
  sentCount: number; // Warm-up + measured, for fixed-rate pacing.
  offset: number; // Fixed rate: where in its period this client sends.
  acker: BenchClient | null;
  acks: BenchClient | null; // The sender this client acks for.
  closed: boolean;
}

const MARK = Buffer.from("~b ");
const SUBSCRIBED = ":1\r\n"; // The end of Redis's reply to our SUBSCRIBE.
const BARRIER = "/bench-barrier";
const BARRIER_REPLY = "Unsupported command";
const END_1 = 0x7e; // "~"
const END_2 = 0x65; // "e"
const SPACE = 0x20;

function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/* ============================ The load ==================================== */

class Load {
  clients: BenchClient[] = [];
  groupSize = new Map<number, number>();
  protocol: Protocol = "chat";
  phase: "w" | "m" | "s" = "w";
  sending = false;
  mode: Mode = "flat";
  window = 1;
  // Measurement.
  measureStart = 0;
  sliceUs = 1;
  slices: number[] = [];
  sent = 0;
  expected = 0;
  received = 0;
  corrupt = 0;
  closed = 0;
  latency = new Histogram();
  cpu = 0;
  private senders: BenchClient[] = []; // Flat-out: who gets the next free slot, in turn.
  private turn = 0;
  private freed = 0; // Slots freed by the acks of the current read.
  private pacer: NodeJS.Timeout | null = null;

  // Connect our clients, wait for every welcome line, send the setup lines.
  async open(req: OpenRequest): Promise<void> {
    for (const g of req.groups) this.groupSize.set(g, (this.groupSize.get(g) ?? 0) + 1);
    this.protocol = req.protocol;
    const resp = req.protocol === "resp";
    const welcomes: Promise<void>[] = [];
    for (let k = 0; k < req.count; k++) {
      const idx = req.first + k;
      const group = req.groups[idx] ?? 0;
      const socket = net.connect({ host: req.host, port: req.port, noDelay: true });
      const channel = `c${group}`;
      let out = socket;
      if (resp) {
        // The publishing connection: its replies (":<receivers>") are read
        // and thrown away. The subscriber's "welcome" is its SUBSCRIBE reply.
        out = net.connect({ host: req.host, port: req.port, noDelay: true });
        out.on("data", () => {});
        out.on("error", () => {});
        socket.write(`*2\r\n$9\r\nSUBSCRIBE\r\n$${channel.length}\r\n${channel}\r\n`);
      }
      const c: BenchClient = {
        idx,
        group,
        socket,
        out,
        channel: `$${channel.length}\r\n${channel}\r\n`,
        welcomed: false,
        tail: null,
        syncSeen: 0,
        barrier: null,
        seq: 0,
        sentCount: 0,
        offset: k / req.count,
        acker: null,
        acks: null,
        closed: false,
      };
      this.clients.push(c);
      welcomes.push(
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`client ${idx}: no welcome`)), 10000);
          // Flowing mode: every byte is read as soon as it arrives. A slow
          // reader here would get dropped by the server's 1 MiB output limit
          // and show up as loss that is really the benchmark's fault.
          let hello = "";
          socket.on("data", (chunk: Buffer) => {
            if (!c.welcomed) {
              hello += chunk.toString("latin1");
              const end = resp ? hello.indexOf(SUBSCRIBED) : hello.indexOf("\n");
              if (end === -1) return; // The welcome, still incomplete.
              c.welcomed = true;
              clearTimeout(timer);
              resolve();
              chunk = Buffer.from(hello.slice(end + (resp ? SUBSCRIBED.length : 1)), "latin1");
              if (chunk.length === 0) return;
            }
            if (c.barrier !== null) {
              c.barrier.text += chunk.toString("latin1");
              if (c.barrier.text.includes(BARRIER_REPLY)) {
                c.barrier.done();
                c.barrier = null;
              }
            }
            this.onData(c, chunk);
          });
          socket.on("error", (err) => {
            clearTimeout(timer);
            reject(new Error(`client ${idx}: ${err.message}`));
          });
          socket.on("close", () => {
            if (!c.closed) this.closed++;
            c.closed = true;
          });
        }),
      );
    }
    await Promise.all(welcomes);
    // Setup lines, then a command every step refuses with a reply: the
    // server handles a client's lines in order, so the reply proves that
    // the setup (every /join) has taken effect. Only then can the sync
    // round's hellos reach whole groups.
    const barriers: Promise<void>[] = [];
    for (const [k, c] of this.clients.entries()) {
      const lines = req.setup[k] ?? [];
      if (lines.length === 0) continue;
      barriers.push(new Promise((done) => (c.barrier = { text: "", done })));
      c.socket.write([...lines, BARRIER].map((l) => `${l}\n`).join(""));
    }
    await Promise.all(barriers);
    // Pair each sender with the next of our clients in its group.
    const byGroup = new Map<number, BenchClient[]>();
    for (const c of this.clients) byGroup.set(c.group, [...(byGroup.get(c.group) ?? []), c]);
    for (const members of byGroup.values()) {
      if (members.length < 2) continue;
      for (let k = 0; k < members.length; k++) {
        const sender = members[k]!;
        const acker = members[(k + 1) % members.length]!;
        sender.acker = acker;
        acker.acks = sender;
      }
    }
  }

  // The sync round, for topologies with setup lines: every setup is done
  // (open() waited for the barriers), so every hello reaches its whole
  // group. When every client has heard every other member of its group,
  // the connections are warm and the load can start.
  async sync(timeoutMs: number): Promise<void> {
    this.phase = "s";
    const now = nowMicros();
    for (const c of this.clients) this.sendLines(c, 1, now);
    const deadline = Date.now() + timeoutMs;
    while (!this.clients.every((c) => c.syncSeen >= this.recipients(c))) {
      if (Date.now() > deadline) {
        const late = this.clients.filter((c) => c.syncSeen < this.recipients(c)).length;
        throw new Error(`sync: ${late} clients did not hear their whole group`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  recipients(c: BenchClient): number {
    const size = this.groupSize.get(c.group) ?? 1;
    return this.protocol === "resp" ? size : size - 1; // Redis: the sender hears itself.
  }

  // Warm up, measure, stop sending; resolve when the measured window ends.
  run(req: RunRequest): Promise<void> {
    this.mode = req.mode;
    this.window = req.window;
    this.phase = "w";
    this.sending = true;
    const start = nowMicros();
    if (req.mode === "flat") {
      this.senders = this.clients.filter((c) => this.recipients(c) > 0); // Else nobody hears.
      for (const c of this.senders) {
        if (c.acker === null) {
          throw new Error(`client ${c.idx} has no other member of its group in its process`);
        }
      }
      this.sendTurns(req.window, start);
    }
    if (req.mode === "rate") {
      // Every 5 ms, send what each client owes: the messages its rate
      // calls for since the start, minus those already sent. Catching up
      // this way keeps the average rate exact even when a timer is late.
      this.pacer = setInterval(() => {
        const now = nowMicros();
        const elapsed = (now - start) / 1e6;
        for (const c of this.clients) {
          if (this.recipients(c) === 0 || c.closed) continue;
          const due = Math.floor(req.ratePerClient * elapsed + c.offset);
          if (due > c.sentCount) this.sendLines(c, due - c.sentCount, now);
        }
      }, 5);
    }
    return new Promise((resolve) => {
      setTimeout(() => {
        this.phase = "m";
        this.measureStart = nowMicros();
        this.sliceUs = (req.measureMs * 1000) / req.slices;
        this.slices = new Array<number>(req.slices).fill(0);
        const cpu0 = process.cpuUsage();
        setTimeout(() => {
          this.sending = false;
          if (this.pacer) clearInterval(this.pacer);
          this.pacer = null;
          const cpu = process.cpuUsage(cpu0);
          this.cpu = (cpu.user + cpu.system) / (nowMicros() - this.measureStart);
          resolve();
        }, req.measureMs);
      }, req.warmupMs);
    });
  }

  // Write n marker lines for client c, in one write: a client with several
  // lines ready sends them together, as any real client would.
  sendLines(c: BenchClient, n: number, now: number): void {
    if (c.closed || n <= 0) return;
    let out = "";
    for (let k = 0; k < n; k++) {
      const line = `~b ${this.phase} ${c.idx} ${c.seq++} ${now} ~e\n`;
      // RESP: PUBLISH c<group> <line>, as a client library would write it.
      out +=
        this.protocol === "resp"
          ? `*3\r\n$7\r\nPUBLISH\r\n${c.channel}$${line.length}\r\n${line}\r\n`
          : line;
    }
    c.sentCount += n;
    if (this.phase === "m") {
      this.sent += n;
      this.expected += n * this.recipients(c);
    }
    c.out.write(out);
  }

  // Scan a chunk for markers. Called for every read of every client: this
  // is the hot path of the whole benchmark, so it parses bytes by hand.
  onData(c: BenchClient, chunk: Buffer): void {
    let buf = chunk;
    if (c.tail !== null) {
      buf = Buffer.concat([c.tail, chunk]);
      c.tail = null;
    }
    const now = nowMicros();
    let pos = 0;
    for (;;) {
      const at = buf.indexOf(MARK, pos);
      if (at === -1) {
        // Keep a possible start of a marker ("~" or "~b") for the next read.
        const keep = Math.max(pos, buf.length - (MARK.length - 1));
        const t = buf.indexOf(END_1, keep);
        if (t !== -1) c.tail = Buffer.from(buf.subarray(t));
        break;
      }
      const parsed = parseMarker(buf, at + MARK.length);
      if (parsed === INCOMPLETE) {
        c.tail = Buffer.from(buf.subarray(at)); // Copy: don't pin the read buffer.
        break;
      }
      if (parsed === INVALID) {
        this.corrupt++;
        pos = at + 1;
        continue;
      }
      pos = parsed.end;
      this.onMarker(c, parsed.phase, parsed.sender, parsed.time, now);
    }
    if (this.freed > 0 && this.sending) this.sendTurns(this.freed, now);
    this.freed = 0;
  }

  // Flat-out: give `slots` free window slots to the next senders in turn,
  // one line each, and write each sender's lines at once.
  sendTurns(slots: number, now: number): void {
    if (this.senders.length === 0) return;
    const batch = new Map<BenchClient, number>();
    for (let k = 0; k < slots; k++) {
      const c = this.senders[this.turn]!;
      this.turn = (this.turn + 1) % this.senders.length;
      batch.set(c, (batch.get(c) ?? 0) + 1);
    }
    for (const [c, n] of batch) this.sendLines(c, n, now);
  }

  onMarker(c: BenchClient, phase: number, sender: number, time: number, now: number): void {
    if (phase === PHASE_S) {
      c.syncSeen++;
      return;
    }
    if (this.phase === "m") {
      const slice = Math.floor((now - this.measureStart) / this.sliceUs);
      if (slice >= 0 && slice < this.slices.length) this.slices[slice]!++;
    }
    if (phase === PHASE_M) {
      this.received++;
      this.latency.record(now - time);
    }
    if (this.mode === "flat" && c.acks !== null && c.acks.idx === sender) {
      this.freed++;
    }
  }

  report(): LoadReport {
    return {
      sent: this.sent,
      expected: this.expected,
      received: this.received,
      slices: this.slices,
      sliceMs: this.sliceUs / 1000,
      latency: this.latency.counts,
      cpu: this.cpu,
      closed: this.closed,
      corrupt: this.corrupt,
    };
  }

  close(): void {
    if (this.pacer) clearInterval(this.pacer);
    for (const c of this.clients) {
      c.closed = true;
      c.socket.destroy();
      if (c.out !== c.socket) c.out.destroy();
    }
  }
}

/* ============================ Marker parsing ============================== */

const PHASE_W = 0x77; // "w"
const PHASE_M = 0x6d; // "m"
const PHASE_S = 0x73; // "s"
const INCOMPLETE = 0;
const INVALID = 1;
type Parsed =
  | typeof INCOMPLETE
  | typeof INVALID
  | { phase: number; sender: number; time: number; end: number };

// Parse "<phase> <sender> <seq> <time> ~e" starting at `i` (just after
// "~b "). INCOMPLETE if the buffer ends first: the rest is in the next read.
function parseMarker(buf: Buffer, i: number): Parsed {
  if (i >= buf.length) return INCOMPLETE;
  const phase = buf[i]!;
  if (phase !== PHASE_W && phase !== PHASE_M && phase !== PHASE_S) return INVALID;
  i++;
  const fields = [0, 0, 0]; // sender, seq, time
  for (let f = 0; f < 3; f++) {
    if (i >= buf.length) return INCOMPLETE;
    if (buf[i] !== SPACE) return INVALID;
    i++;
    let digits = 0;
    let value = 0;
    while (i < buf.length) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
      digits++;
      i++;
    }
    if (i >= buf.length) return INCOMPLETE;
    if (digits === 0) return INVALID;
    fields[f] = value;
  }
  if (i + 2 >= buf.length) return INCOMPLETE;
  if (buf[i] !== SPACE || buf[i + 1] !== END_1 || buf[i + 2] !== END_2) return INVALID;
  return { phase, sender: fields[0]!, time: fields[2]!, end: i + 3 };
}

/* ============================ Child process main ========================== */

// Answer fanout.ts's requests, one at a time, in order.
function serve(): void {
  let load = new Load();
  let queue = Promise.resolve();
  const reply = (r: Reply): void => {
    process.send?.(r);
  };
  process.on("message", (msg: Request) => {
    queue = queue.then(async () => {
      try {
        switch (msg.t) {
          case "open":
            load.close(); // A new cell: forget the last one.
            load = new Load();
            await load.open(msg);
            return reply({ t: "opened" });
          case "sync":
            await load.sync(msg.timeoutMs);
            return reply({ t: "synced" });
          case "run":
            await load.run(msg);
            return reply({ t: "sent", sent: load.sent, expected: load.expected });
          case "count":
            return reply({ t: "count", received: load.received });
          case "report":
            return reply({ t: "report", report: load.report() });
          case "close":
            load.close();
            return reply({ t: "closed" });
        }
      } catch (err) {
        reply({ t: "error", message: (err as Error).message });
      }
    });
  });
  // The parent went away (Ctrl-C, a crash): don't linger holding sockets.
  process.on("disconnect", () => process.exit(0));
}

if (process.env.SMALLCHAT_BENCH_LOAD === "1" && process.send) serve();
