// poller.ts -- ask "which sockets are ready?" and get back only those.
//
// smallchat's loop is select(2): fill an fd_set with every socket, sleep
// until one of them is ready (or a second passes), then test every socket
// again to find which. Each round costs O(all clients) twice, and fd_set is a
// fixed bitmap of FD_SETSIZE (1024) descriptors: client 1025 cannot even be
// asked about. poll(2) removes the size limit but keeps the O(n) scans.
// epoll (Linux) and kqueue (BSD, macOS) turn it around: the kernel keeps the
// list of watched sockets, and epoll_wait() returns only the ready ones, so
// a round costs O(ready), however many clients are idle.
//
// Node already sits on epoll/kqueue: libuv runs the epoll_wait() loop and
// calls a JavaScript callback per ready socket. What Node hides is the
// *loop*: there is no place where "one round" begins and ends. The Poller
// puts that place back. Socket callbacks do no work here; they only mark the
// socket ready, the way the kernel marks a file descriptor ready, and wait()
// hands the loop one batch of events, the way epoll_wait() fills its array.
//
// Sockets stay in paused mode (a 'readable' listener, no 'data' listener):
// bytes wait in Node's buffer until the loop calls socket.read(), and the
// loop reads until read() returns null, which is Node's EAGAIN. While the
// loop does not read, Node stops reading too, the kernel buffer fills and
// TCP makes the sender wait: backpressure for free.

import type net from "node:net";

// What wait() reports. `data` is what the loop attached with add(), like
// epoll_event.data: here, the chat client that owns the socket.
export type PollEvent<T> =
  | { type: "accept"; socket: net.Socket } // A new connection (the listening socket was readable).
  | { type: "readable"; data: T } // Bytes (or the end of them) are waiting for socket.read().
  | { type: "writable"; data: T } // 'drain': the socket took what it held; write again.
  | { type: "end"; data: T } // The peer ended its input (a FIN); the socket may still be written.
  | { type: "closed"; data: T; reason: string }; // The connection is over; free the client.

// One watched socket: what happened to it since the last wait().
interface Watch<T> {
  socket: net.Socket;
  data: T | undefined; // Undefined until the loop has accepted the socket.
  accept: boolean;
  readable: boolean;
  writable: boolean;
  ended: boolean;
  closed: string | null; // Why, if it closed: the first reason wins.
  closedReported: boolean;
  removed: boolean;
}

export class Poller<T> {
  private readonly watches = new Map<net.Socket, Watch<T>>();
  // Sockets with something to report, in the order they became ready.
  private readonly ready = new Set<Watch<T>>();
  // The pending wait(), if the loop is asleep in one.
  private wake: (() => void) | null = null;
  private wakeScheduled = false;

  // Accepting is an event like any other: the server's 'connection' callback
  // only queues the new socket for the loop.
  constructor(server: net.Server) {
    server.on("connection", (socket: net.Socket) => this.watch(socket));
  }

  // Start watching a just accepted socket. Every listener is attached now,
  // before the loop even knows the socket, so that nothing is missed and an
  // early error never goes unhandled; the events wait for add().
  private watch(socket: net.Socket): void {
    const w: Watch<T> = {
      socket,
      data: undefined,
      accept: true,
      readable: false,
      writable: false,
      ended: false,
      closed: null,
      closedReported: false,
      removed: false,
    };
    this.watches.set(socket, w);
    socket.on("readable", () => this.mark(w, "readable"));
    socket.on("drain", () => this.mark(w, "writable"));
    // read() returning 0 in C: the peer ended its input, which with
    // allowHalfOpen is not yet the end of the connection. -1, an error, is.
    socket.on("end", () => this.mark(w, "ended"));
    socket.on("error", (err: Error) => this.markClosed(w, err.message));
    socket.on("close", () => this.markClosed(w, "connection closed"));
    this.markReady(w);
  }

  // Attach the loop's data to an accepted socket (epoll_ctl(EPOLL_CTL_ADD)).
  add(socket: net.Socket, data: T): void {
    const w = this.watches.get(socket);
    if (w === undefined) return;
    w.data = data;
    if (w.readable || w.writable || w.ended || w.closed !== null) this.markReady(w);
  }

  // Stop reporting a socket (epoll_ctl(EPOLL_CTL_DEL)). Its listeners stay,
  // ignoring everything: an 'error' with no listener would crash the process.
  remove(socket: net.Socket): void {
    const w = this.watches.get(socket);
    if (w === undefined) return;
    w.removed = true;
    this.watches.delete(socket);
    this.ready.delete(w);
  }

  // Sleep until at least one socket is ready or `timeoutMs` passes, then
  // return every event that happened: epoll_wait(). An empty batch means the
  // timeout expired.
  wait(timeoutMs: number): Promise<PollEvent<T>[]> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), Math.max(0, timeoutMs));
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        this.wakeScheduled = false;
        resolve(this.collect());
      };
      this.wake = done;
      if (this.ready.size > 0) this.scheduleWake();
    });
  }

  private mark(w: Watch<T>, what: "readable" | "writable" | "ended"): void {
    if (w.removed) return;
    w[what] = true;
    this.markReady(w);
  }

  private markClosed(w: Watch<T>, reason: string): void {
    if (w.removed || w.closed !== null) return;
    w.closed = reason;
    this.markReady(w);
  }

  private markReady(w: Watch<T>): void {
    this.ready.add(w);
    this.scheduleWake();
  }

  // Wake the loop with setImmediate, not at once. libuv runs every callback
  // of one epoll_wait() round, then the "check" phase where immediates run:
  // waking there hands the loop the whole round as one batch, instead of
  // one loop iteration (and one flush) per socket. It also means every
  // iteration goes back to libuv once, so a busy loop cannot starve I/O.
  private scheduleWake(): void {
    const wake = this.wake;
    if (wake === null || this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      if (this.wake === wake) wake(); // Unless that wait() already timed out.
    });
  }

  // Turn the ready set into events and clear it. A socket's first event is
  // its accept: whatever else happened to it is reported by the next wait(),
  // once the loop has had a chance to add() it.
  private collect(): PollEvent<T>[] {
    const events: PollEvent<T>[] = [];
    const later: Watch<T>[] = [];
    for (const w of this.ready) {
      if (w.accept) {
        w.accept = false;
        events.push({ type: "accept", socket: w.socket });
        if (w.readable || w.writable || w.ended || w.closed !== null) later.push(w);
        continue;
      }
      if (w.data === undefined) {
        later.push(w); // Accepted, but add() has not been called yet.
        continue;
      }
      if (w.readable) events.push({ type: "readable", data: w.data });
      if (w.writable) events.push({ type: "writable", data: w.data });
      if (w.ended) events.push({ type: "end", data: w.data });
      if (w.closed !== null && !w.closedReported) {
        w.closedReported = true;
        events.push({ type: "closed", data: w.data, reason: w.closed });
      }
      w.readable = false;
      w.writable = false;
      w.ended = false;
    }
    this.ready.clear();
    for (const w of later) this.ready.add(w);
    return events;
  }
}
