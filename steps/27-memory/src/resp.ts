// resp.ts -- RESP, Redis's wire protocol: parse requests, write replies.
//
// Step 02 had to find where a message ends by looking for "\n", which means
// a message can never contain one, and every byte must be scanned. RESP
// says how long a thing is *before* sending it:
//
//     *2\r\n$4\r\nECHO\r\n$5\r\nhi\nyo\r\n      (ECHO "hi\nyo")
//
// "*2" is an array of two elements, "$4" a bulk string of four bytes. The
// parser reads a short header line, then takes exactly that many bytes
// without looking at them: any byte may be inside (binary safe), and a
// 10 MB value costs one copy, not a scan for newlines. People typing at
// telnet or nc may also send a plain line ("PING\r\n"): the *inline*
// form, split on spaces with quotes, as redis-cli splits what you type.
//
// The parser is incremental: feed() it whatever the socket gave, then call
// next() until it answers null (incomplete: wait for more bytes). It throws
// a ProtocolError only for input that can never become valid; the caller
// then sends the error and closes that one connection. Where it stopped
// is kept in its state, so a command split across a hundred reads is
// parsed once, not a hundred times. The limits and the error texts are
// Redis's (networking.c, processMultibulkBuffer and processInlineBuffer),
// down to its quirks: the two bytes after a bulk are skipped unchecked,
// and a header line ends at "\r" plus any one byte.
//
// Replies go the other way: a handler calls bulk(), integer(), map()...
// on the client's ReplyWriter, which appends RESP bytes to the client's
// output buffer. The writer knows the client's protocol (RESP2, or RESP3
// after HELLO 3), so no handler ever writes protocol bytes itself.

/* ============================ Parsing ===================================== */

// Redis's PROTO_INLINE_MAX_SIZE: the longest inline command, and the
// longest header line ("*123\r\n") we wait for before calling it garbage.
// Redis checks it after each 16 KB read, so a line a little longer may
// pass there if its end comes in the same read; here a longer line is
// refused even when its end is already in, whatever the reads were.
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
const INT_MAX = 2147483647;
// A bulk at least this long is read straight into a buffer of its own size:
// each byte copied once, however many reads it takes to arrive.
const BIG_BULK = 32 * 1024;

export interface ParserLimits {
  maxBulkLen: number; // proto-max-bulk-len: 512 MB in Redis.
}

// Input that can never be a valid command. `message` is what the client is
// told (after "-ERR "), `reason` what the log says.
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

const CR = 0x0d;
const LF = 0x0a;

// Redis's string2ll(): an optional "-", then digits with no leading zero
// (a lone "0" is fine), fitting in 64 bits. Anything else is not a number.
// Returns null for "not a number".
export function parseInteger(b: Buffer, start: number, end: number): number | null {
  const len = end - start;
  if (len <= 0 || len > 20) return null;
  let i = start;
  const negative = b[i] === 0x2d;
  if (negative) {
    i++;
    if (i === end) return null;
  }
  if (b[i] === 0x30) return len === 1 ? 0 : null;
  let n = 0;
  for (; i < end; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  if (n > Number.MAX_SAFE_INTEGER) {
    // Past 2^53 a double cannot tell; only now ask BigInt about 64 bits.
    const big = BigInt(b.toString("latin1", start, end));
    if (big > 9223372036854775807n || big < -9223372036854775808n) return null;
  }
  return negative ? -n : n;
}

const isSpace = (c: number | undefined) =>
  c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d;
// What ends a word outside quotes (a narrower set than isSpace: sdssplitargs
// keeps "\v" and "\f" inside a word).
const isWordEnd = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isHex = (c: number | undefined) =>
  c !== undefined && ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66));
const hexValue = (c: number) => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10);

// Split an inline command line as Redis's sdssplitargs() does: words
// separated by spaces; "double quotes" with \n \r \t \b \a \xHH escapes;
// 'single quotes' with only \' ; a closing quote must end the word.
// Returns null for unbalanced quotes.
export function splitArgs(line: Buffer): Buffer[] | null {
  const args: Buffer[] = [];
  const n = line.length;
  let p = 0;
  while (true) {
    while (p < n && isSpace(line[p])) p++;
    if (p >= n) return args;
    // A word without quotes (PING, SET k v: nearly always) is the bytes as
    // sent: a view of the line, as a multibulk's arguments are views of
    // their read. Only a word with a quote is rebuilt byte by byte below.
    let end = p;
    while (end < n && !isWordEnd(line[end]!) && line[end] !== 0x22 && line[end] !== 0x27) end++;
    if (end === n || isWordEnd(line[end]!)) {
      args.push(line.subarray(p, end));
      p = end;
      continue;
    }
    const cur: number[] = [];
    let inq = false;
    let insq = false;
    let done = false;
    while (!done) {
      const c = line[p]; // undefined past the end: C's terminating NUL.
      if (inq) {
        if (c === 0x5c && line[p + 1] === 0x78 && isHex(line[p + 2]) && isHex(line[p + 3])) {
          cur.push(hexValue(line[p + 2]!) * 16 + hexValue(line[p + 3]!));
          p += 3;
        } else if (c === 0x5c && p + 1 < n) {
          p++;
          const e = line[p]!;
          const map: Record<number, number> = { 110: 10, 114: 13, 116: 9, 98: 8, 97: 7 };
          cur.push(map[e] ?? e);
        } else if (c === 0x22) {
          if (p + 1 < n && !isSpace(line[p + 1])) return null;
          done = true;
        } else if (c === undefined) {
          return null;
        } else {
          cur.push(c);
        }
      } else if (insq) {
        if (c === 0x5c && line[p + 1] === 0x27) {
          p++;
          cur.push(0x27);
        } else if (c === 0x27) {
          if (p + 1 < n && !isSpace(line[p + 1])) return null;
          done = true;
        } else if (c === undefined) {
          return null;
        } else {
          cur.push(c);
        }
      } else if (c === undefined || isWordEnd(c)) {
        done = true;
      } else if (c === 0x22) {
        inq = true;
      } else if (c === 0x27) {
        insq = true;
      } else {
        cur.push(c);
      }
      if (p < n) p++;
    }
    args.push(Buffer.from(cur));
  }
}

// The parser's state between reads. `buf[pos..]` is input not consumed yet.
// Inside a multibulk, `argv` holds the arguments already read and
// `remaining` how many are still to come; inside a big bulk, `big` is the
// buffer it is being copied into.
// Big arguments the parser read into a buffer of their own (see
// finishBig()), not into a read buffer shared with other arguments.
const ownBuffers = new WeakSet<Buffer>();

// What a command that stores an argument (SET's value) keeps. Most
// arguments are views into a read buffer that the next read reuses, so
// they are copied. A big one already has its own buffer: it is kept as
// it is, as Redis keeps a big query buffer as the value itself, so a
// 400 MB SET holds one copy of the value, not two (until a garbage
// collection would have freed the first).
export function keepArg(arg: Buffer): Buffer {
  return ownBuffers.has(arg) ? arg : Buffer.from(arg);
}

export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  // A buffer of our own that `buf` is the start of, with room to append:
  // input trickling in (a 60 KB inline command one byte per read) is
  // appended in place, the room doubling when full, instead of the whole
  // tail being copied on every read.
  private store: Buffer | null = null;
  // Bytes after `pos` already searched for the end of the current line:
  // a line trickling in is searched once in all, not once per read.
  private scanned = 0;
  private pos = 0;
  private remaining = 0; // 0: between commands.
  private argv: Buffer[] = [];
  private argvBytes = 0;
  private bulkLen = -1; // Length of the bulk whose header was read; -1: none.
  private big: Buffer | null = null;
  private bigFilled = 0;

  constructor(private readonly limits: ParserLimits) {}

  // Bytes held for commands not complete yet: unparsed input plus the
  // arguments already taken out of it. What the query buffer limit counts.
  get buffered(): number {
    return this.buf.length - this.pos + this.argvBytes + (this.big?.length ?? 0);
  }

  // Hand the parser the bytes of one read. A big bulk in progress takes
  // them straight into its own buffer; a read that starts a command is
  // used as it is (no copy); otherwise the bytes join the unparsed tail.
  feed(chunk: Buffer): void {
    if (this.big !== null) {
      const n = Math.min(chunk.length, this.big.length - this.bigFilled);
      chunk.copy(this.big, this.bigFilled, 0, n);
      this.bigFilled += n;
      chunk = chunk.subarray(n);
      if (chunk.length === 0) return;
    }
    const { buf, store } = this;
    if (this.pos >= buf.length) {
      this.buf = chunk;
      this.store = null;
      this.advance(0);
      return;
    }
    const end = buf.length;
    if (store !== null && buf.buffer === store.buffer && buf.byteOffset === store.byteOffset) {
      if (end + chunk.length <= store.length) {
        store.set(chunk, end);
        this.buf = store.subarray(0, end + chunk.length);
        return;
      }
    }
    // Move the tail to a new store: room for this read, and at least
    // double the tail, so a trickle costs amortised O(1) per byte.
    const rest = end - this.pos;
    const fresh = Buffer.allocUnsafe(Math.max(rest + chunk.length, 2 * rest, 4096));
    fresh.set(buf.subarray(this.pos), 0);
    fresh.set(chunk, rest);
    this.store = fresh;
    this.buf = fresh.subarray(0, rest + chunk.length);
    this.pos = 0;
  }

  // The next complete command (its arguments, name first), or null if the
  // input so far ends in the middle of one. Throws ProtocolError.
  // Arguments are views into the read buffers: a caller that keeps one
  // after the command ran (a stored value) must copy it.
  next(): Buffer[] | null {
    while (true) {
      if (this.big !== null) {
        if (!this.finishBig()) return null;
      } else if (this.remaining === 0) {
        if (this.pos >= this.buf.length) return this.reset();
        if (this.buf[this.pos] === 0x2a) {
          if (!this.readMultibulkHeader()) return null;
        } else {
          const argv = this.readInline();
          if (argv === undefined) return null;
          if (argv.length > 0) return argv;
          continue; // An empty line: nothing to run.
        }
      } else if (!this.readBulk()) {
        return null;
      }
      if (this.remaining === 0 && this.argv.length > 0) {
        const argv = this.argv;
        this.argv = [];
        this.argvBytes = 0;
        return argv;
      }
    }
  }

  // Nothing left unparsed: drop the reference to the last read buffer.
  private reset(): null {
    if (this.buf.length > 0) {
      this.buf = Buffer.alloc(0);
      this.store = null;
      this.advance(0);
    }
    return null;
  }

  // Where the line starting at `pos` ends: the index of its `terminator`
  // ("\r" for headers, "\n" for inline commands), -1 if not here yet.
  // Redis finds it with strchr(), which also stops at a NUL byte: a line
  // with a NUL before its end never ends (until it is too long).
  private lineEnd(terminator: number): number {
    const { buf, pos } = this;
    for (let i = pos + this.scanned; i < buf.length; i++) {
      const c = buf[i];
      if (c === terminator) return i;
      if (c === 0) {
        this.scanned = i - pos;
        return -1;
      }
    }
    this.scanned = buf.length - pos;
    return -1;
  }

  // Move past a line (or a bulk): the next search starts afresh.
  private advance(to: number): void {
    this.pos = to;
    this.scanned = 0;
  }

  // "*<count>\r\n". A count <= 0 is an empty command, skipped.
  private readMultibulkHeader(): boolean {
    const { buf, pos } = this;
    const cr = this.lineEnd(CR);
    if (cr === -1 || cr - pos > PROTO_INLINE_MAX_SIZE) {
      if (buf.length - pos > PROTO_INLINE_MAX_SIZE) {
        throw new ProtocolError(
          "Protocol error: too big mbulk count string",
          "too big mbulk count string",
        );
      }
      return false;
    }
    if (cr + 1 >= buf.length) return false; // The byte after "\r" is not here yet.
    const n = parseInteger(buf, pos + 1, cr);
    if (n === null || n > INT_MAX) {
      throw new ProtocolError("Protocol error: invalid multibulk length", "invalid mbulk count");
    }
    this.advance(cr + 2);
    this.remaining = Math.max(0, n);
    return true;
  }

  // "$<len>\r\n<len bytes>\r\n": one argument of a multibulk.
  private readBulk(): boolean {
    if (this.bulkLen === -1) {
      const { buf, pos } = this;
      const cr = this.lineEnd(CR);
      if (cr === -1 || cr - pos > PROTO_INLINE_MAX_SIZE) {
        if (buf.length - pos > PROTO_INLINE_MAX_SIZE) {
          throw new ProtocolError(
            "Protocol error: too big bulk count string",
            "too big bulk count string",
          );
        }
        return false;
      }
      if (cr + 1 >= buf.length) return false;
      if (buf[pos] !== 0x24) {
        // Redis prints the byte with %c: a NUL ends its C string there,
        // and "\r" or "\n" in an error line become spaces.
        const got = buf[pos]!;
        const shown =
          got === 0 ? "" : got === CR || got === LF ? " '" : `${String.fromCharCode(got)}'`;
        throw new ProtocolError(
          `Protocol error: expected '$', got '${shown}`,
          "expected $ but got something else",
        );
      }
      const len = parseInteger(buf, pos + 1, cr);
      if (len === null || len < 0 || len > this.limits.maxBulkLen) {
        throw new ProtocolError("Protocol error: invalid bulk length", "invalid bulk length");
      }
      this.advance(cr + 2);
      this.bulkLen = len;
      const have = this.buf.length - this.pos;
      if (len >= BIG_BULK && have < len + 2) {
        // Copy what is here into a buffer of the final size; feed() will
        // copy the rest in as it arrives.
        this.big = Buffer.allocUnsafe(len + 2);
        this.buf.copy(this.big, 0, this.pos);
        this.bigFilled = have;
        this.buf = Buffer.alloc(0);
        this.store = null;
        this.pos = 0;
        return this.finishBig();
      }
    }
    const len = this.bulkLen;
    if (this.buf.length - this.pos < len + 2) return false;
    // Redis skips the two bytes after the data without checking them.
    this.pushArg(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len + 2;
    return true;
  }

  private finishBig(): boolean {
    const big = this.big!;
    if (this.bigFilled < big.length) return false;
    this.big = null; // The parser lets go of it: the argument is all that holds it now.
    const arg = big.subarray(0, big.length - 2);
    ownBuffers.add(arg);
    this.pushArg(arg);
    return true;
  }

  private pushArg(arg: Buffer): void {
    this.argv.push(arg);
    this.argvBytes += arg.length;
    this.bulkLen = -1;
    this.remaining--;
  }

  // One inline command line. undefined: no full line yet.
  private readInline(): Buffer[] | undefined {
    const { buf, pos } = this;
    const nl = this.lineEnd(LF);
    if (nl === -1 || nl - pos > PROTO_INLINE_MAX_SIZE) {
      if (buf.length - pos > PROTO_INLINE_MAX_SIZE) {
        throw new ProtocolError("Protocol error: too big inline request", "too big inline request");
      }
      return undefined;
    }
    const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
    const argv = splitArgs(buf.subarray(pos, end));
    if (argv === null) {
      throw new ProtocolError(
        "Protocol error: unbalanced quotes in request",
        "unbalanced quotes in inline request",
      );
    }
    this.advance(nl + 1);
    return argv;
  }
}

// One complete frame of bulk strings, as an array (RESP2) or a push
// (RESP3): a pub/sub message, built once and copied to every subscriber.
export function encodePush(proto: Proto, parts: Buffer[]): Buffer {
  const top = `${proto === 3 ? ">" : "*"}${parts.length}\r\n`;
  let size = top.length;
  for (const p of parts) size += `$${p.length}\r\n`.length + p.length + 2;
  const out = Buffer.allocUnsafe(size);
  let pos = putAscii(out, 0, top);
  for (let i = 0; i < parts.length; i++) {
    pos = putAscii(out, pos, `$${parts[i]!.length}\r\n`);
    out.set(parts[i]!, pos);
    pos += parts[i]!.length;
    out[pos++] = 0x0d;
    out[pos++] = 0x0a;
  }
  return out;
}

/* ============================ Replies =====================================
 * Replies are appended to a 16 KB slab, as Redis appends to each client's
 * 16 KB c->buf: a small reply costs a few bytes copied, no allocation. At
 * the end of the loop iteration take() hands the bytes written since the
 * last take() to the socket as a view of the slab; the next replies go
 * after them, so the view is never overwritten (unless the socket has
 * written it already: see rewind()). Big payloads (a 10 MB
 * bulk) are not copied at all: they are queued as chunks of their own.
 * ======================================================================== */

const SLAB_BYTES = 16 * 1024;
const BIG_REPLY = 4 * 1024;
const CRLF = Buffer.from("\r\n");

export type Proto = 2 | 3;

// Copy the characters of `s` (ASCII, or latin1: one byte each) into `buf`
// at `pos`; returns the position after them. A loop, not buf.write(): for
// the few bytes of a header (":42\r\n", "$5\r\n") the call into C++ and
// its encoding lookup cost more than the copy.
function putAscii(buf: Buffer, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
  return pos;
}

// The frames whose RESP2 and RESP3 forms differ, prebuilt.
const NULL_BULK: Record<Proto, Buffer> = { 2: Buffer.from("$-1\r\n"), 3: Buffer.from("_\r\n") };
const NULL_ARRAY: Record<Proto, Buffer> = { 2: Buffer.from("*-1\r\n"), 3: Buffer.from("_\r\n") };

// Every error reply sent, for INFO: the total (total_error_replies) and
// the count per error code, the first word ("ERR", "WRONGTYPE"), for the
// errorstats section. Redis stops adding new codes after 128, so a client
// cannot grow the table with made-up ones; so do we.
export const errorReplies = { total: 0, byCode: new Map<string, number>() };
const ERROR_CODES_MAX = 128;

function countError(msg: string): void {
  errorReplies.total++;
  const space = msg.indexOf(" ");
  const code = space === -1 ? msg : msg.slice(0, space);
  const n = errorReplies.byCode.get(code);
  if (n !== undefined) errorReplies.byCode.set(code, n + 1);
  else if (errorReplies.byCode.size < ERROR_CODES_MAX) errorReplies.byCode.set(code, 1);
}

export class ReplyWriter {
  proto: Proto = 2;
  // Bytes waiting to be written (queued chunks plus the slab's unsent part).
  pending = 0;
  private chunks: Buffer[] = [];
  private slab: Buffer | null = null;
  private start = 0; // The slab's first byte not yet handed to take().
  private pos = 0; // Where the next reply byte goes.

  // `wake` is called when the writer goes from empty to not empty: the
  // server then adds the client to the ones to flush this iteration.
  constructor(private readonly wake: () => void) {}

  // Make room for `n` more bytes in the slab.
  private room(n: number): Buffer {
    let slab = this.slab;
    if (slab === null || this.pos + n > slab.length) {
      this.seal();
      slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, n));
      this.slab = slab;
      this.start = 0;
      this.pos = 0;
    }
    if (this.pending === 0) this.wake();
    this.pending += n;
    return slab;
  }

  // Move the slab's unsent bytes to the chunk queue.
  private seal(): void {
    if (this.slab !== null && this.pos > this.start) {
      this.chunks.push(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
    }
  }

  // Append ASCII text (headers, simple strings, numbers).
  private ascii(s: string): void {
    const slab = this.room(s.length);
    this.pos = putAscii(slab, this.pos, s);
  }

  // Append bytes already in RESP form: a prebuilt reply or a frame shared
  // by many clients (a pub/sub message). Big ones are queued, not copied.
  raw(b: Buffer): void {
    if (b.length >= BIG_REPLY) {
      this.seal();
      if (this.pending === 0) this.wake();
      this.chunks.push(b);
      this.pending += b.length;
      return;
    }
    // set(), not copy(): Buffer.copy() makes a view object per call, which
    // for a 60-byte pub/sub frame costs more than the copy.
    this.room(b.length).set(b, this.pos);
    this.pos += b.length;
  }

  // Step 26: the socket took everything take() handed it at once (the
  // kernel copied it), so nothing refers to the slab's bytes any more: the
  // next replies start over at its beginning, as Redis resets c->bufpos
  // once c->buf is written. Without this each client filled a fresh 16 KB
  // slab every few hundred replies, and the old ones lived long enough to
  // be promoted and wait for a full collection: 24 MB for a million XADDs.
  rewind(): void {
    if (this.chunks.length === 0 && this.start === this.pos) {
      this.start = 0;
      this.pos = 0;
    }
  }

  // Everything written since the last take(), in order, for the socket.
  take(): Buffer[] {
    this.seal();
    const out = this.chunks;
    this.chunks = [];
    this.pending = 0;
    return out;
  }

  /* ---- The reply types. Each writes the client's protocol's form. ---- */

  simple(s: string): void {
    this.ascii(`+${s}\r\n`);
  }

  ok(): void {
    this.ascii("+OK\r\n");
  }

  // `msg` is the full error text, code included: "ERR unknown command".
  // A newline in it would end the error line early: Redis makes them spaces.
  // User bytes in it arrive as latin1 text, one char per byte, and leave
  // as those same bytes.
  error(msg: string): void {
    countError(msg);
    this.raw(Buffer.from(`-${msg.replace(/[\r\n]/g, " ")}\r\n`, "latin1"));
  }

  integer(n: number | bigint): void {
    this.ascii(`:${n}\r\n`);
  }

  bulk(b: Buffer | string): void {
    if (typeof b === "string") b = Buffer.from(b);
    if (b.length >= BIG_REPLY) {
      this.ascii(`$${b.length}\r\n`);
      this.raw(b);
      this.raw(CRLF);
      return;
    }
    const header = `$${b.length}\r\n`;
    const slab = this.room(header.length + b.length + 2);
    let p = putAscii(slab, this.pos, header);
    slab.set(b, p);
    p += b.length;
    slab[p++] = 0x0d;
    slab[p++] = 0x0a;
    this.pos = p;
  }

  // A stored string value (db.ts): a latin1 JS string, or a Buffer. The
  // string is written into the slab as it is, one byte per character: no
  // Buffer is made for it.
  value(v: Buffer | string): void {
    if (typeof v !== "string") {
      this.bulk(v);
      return;
    }
    const header = `$${v.length}\r\n`;
    const slab = this.room(header.length + v.length + 2);
    let p = putAscii(slab, this.pos, header);
    p += v.length < 16 ? putAscii(slab, p, v) - p : slab.write(v, p, "latin1");
    slab[p++] = 0x0d;
    slab[p++] = 0x0a;
    this.pos = p;
  }

  // RESP2's "$-1" (a missing value), RESP3's "_".
  null(): void {
    this.raw(NULL_BULK[this.proto]);
  }

  // RESP2's "*-1" (a missing array), RESP3's "_".
  nullArray(): void {
    this.raw(NULL_ARRAY[this.proto]);
  }

  array(n: number): void {
    this.ascii(`*${n}\r\n`);
  }

  // A map of n key/value pairs: RESP3 "%n", RESP2 a flat array of 2n.
  map(n: number): void {
    this.ascii(this.proto === 3 ? `%${n}\r\n` : `*${n * 2}\r\n`);
  }

  set(n: number): void {
    this.ascii(this.proto === 3 ? `~${n}\r\n` : `*${n}\r\n`);
  }

  // An out-of-band message (pub/sub): RESP3 ">n", RESP2 a plain array.
  push(n: number): void {
    this.ascii(this.proto === 3 ? `>${n}\r\n` : `*${n}\r\n`);
  }

  // RESP3 ",1.5", RESP2 a bulk string. No command here replies with one yet
  // (INCRBYFLOAT answers a bulk string even in RESP3); a sorted set's ZSCORE
  // would, and would need Redis's %.17g formatting, which String(d) is not.
  double(d: number): void {
    const text = Number.isFinite(d) ? String(d) : d > 0 ? "inf" : d < 0 ? "-inf" : "nan";
    if (this.proto === 3) this.ascii(`,${text}\r\n`);
    else this.bulk(text);
  }

  // RESP3 "#t"/"#f", RESP2 :1/:0.
  bool(b: boolean): void {
    if (this.proto === 3) this.ascii(b ? "#t\r\n" : "#f\r\n");
    else this.ascii(b ? ":1\r\n" : ":0\r\n");
  }

  // Text meant for humans (INFO, CLIENT LIST): RESP3 "=len\r\ntxt:...",
  // RESP2 a bulk string.
  verbatim(text: string, format = "txt"): void {
    if (this.proto === 2) {
      this.bulk(text);
      return;
    }
    const b = Buffer.from(text);
    this.ascii(`=${b.length + 4}\r\n${format}:`);
    this.raw(b);
    this.raw(CRLF);
  }
}
