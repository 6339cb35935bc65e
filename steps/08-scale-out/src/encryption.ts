// encryption.ts -- seal chat lines so only people who know the passphrase can read them.
//
// Until this step the server read every word we typed: it had to, to add the
// "nick> " prefix and relay the line. It still relays lines, but now the
// clients of a group share a passphrase and turn each chat line into an
// opaque blob before it leaves the terminal. The server forwards the blob
// like any other text and never learns what it says.
//
// This is *symmetric* encryption: the same secret key locks and unlocks, and
// every member holds it. Public-key crypto (each person has a key pair, and
// anyone can lock a message that only the owner of the private key can open)
// solves a harder problem: talking to people you never met to agree on a
// secret. A chat group that already shares a passphrase has no such problem,
// so symmetric crypto is the simple, honest tool here.
//
// Encryption alone is not enough: a cipher that only hides the text lets the
// server flip bits of the ciphertext and flip the same bits of what we read.
// So we use an AEAD ("authenticated encryption with associated data",
// AES-256-GCM here): every message carries a 16-byte tag that only a key
// holder can compute, and opening checks the tag before trusting one byte.
// A tampered line, or one sealed with another key, simply fails to open.
//
// AES-GCM needs a nonce, a number used once, for every message. Reusing a
// nonce under the same key is a disaster (XOR of two ciphertexts gives the
// XOR of the two plaintexts, and the tag key leaks, so forgeries follow). We
// pick 12 random bytes per message: with 2^96 possible values the chance of
// two messages colliding stays below 2^-32 until the whole group has sent
// about 2^32 messages under one key, which a chat room will never reach.
//
// What this does NOT protect, so nobody believes otherwise:
// - who talks, to whom, when, and how long each message is: the server sees
//   nicks, timing and sizes (a one-word "yes" looks short);
// - a member who leaks the passphrase, or an ex-member who still knows it:
//   there is one key for everybody, and changing it means telling everybody;
// - the past: there is no forward secrecy. Whoever records today's traffic
//   and learns the passphrase next year reads all of it;
// - old lines replayed to a client that just started: replay memory lives
//   in the running client only (see "Replay memory").

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync } from "node:crypto";

/* ============================ Key derivation =============================
 * A passphrase is something a human can type and remember, so it is far
 * too guessable to be a key. scrypt stretches it: every guess costs an
 * attacker the same ~100 ms and 32 MiB of memory that it costs us once, at
 * startup. The result is the master key; each channel then gets its own key
 * from the master with HKDF, which is cheap, so joining a room costs nothing
 * and the traffic of one room says nothing about another's key.
 *
 * The salt is fixed, which is unusual and deliberate. A salt normally makes
 * every user's derivation different so one precomputed table cannot attack
 * all of them. Here every member of the group must arrive at the same key
 * from the same passphrase, with no extra round trip to agree on a random
 * salt, and the server (whom we do not trust) is the only one who could
 * carry it. The price: an attacker can precompute guesses against this
 * exact salt once and reuse them on every smallchat-ts group. The scrypt
 * cost is what keeps that expensive; a long passphrase is what defeats it.
 * ======================================================================== */

export const SCRYPT_SALT = "smallchat-ts/v1 scrypt";
export const SCRYPT_COST = { N: 2 ** 15, r: 8, p: 1 } as const;

// scrypt needs 128 * N * r bytes (32 MiB here) plus a little bookkeeping;
// Node's default limit is exactly 32 MiB, so without this it refuses.
const SCRYPT_MAXMEM = 2 * 128 * SCRYPT_COST.N * SCRYPT_COST.r;

const HKDF_INFO_PREFIX = "smallchat-ts/v1 channel ";
const KEY_BYTES = 32;

// Step 06 has one room, so every line uses this context. Step 07 passes the
// channel name instead; a client of step 06 then talks to the step 07 room
// that carries this same name.
export const DEFAULT_CONTEXT = "#lobby";

// The master key is kept inside an object instead of a bare Buffer so it
// cannot be passed by mistake where a channel key (or a passphrase) belongs.
export class MasterKey {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    if (bytes.length !== KEY_BYTES) throw new RangeError(`a master key is ${KEY_BYTES} bytes`);
    this.#bytes = Buffer.from(bytes);
  }

  // The key for one channel. Different contexts give independent keys.
  channelKey(context: string = DEFAULT_CONTEXT): Buffer {
    const info = HKDF_INFO_PREFIX + context.normalize("NFC");
    return Buffer.from(hkdfSync("sha256", this.#bytes, Buffer.alloc(0), info, KEY_BYTES));
  }
}

// Run scrypt on the passphrase: the slow step, done once per passphrase.
// NFC normalization makes "é" typed as one code point or as "e" plus an
// accent derive the same key on every member's keyboard.
export function deriveMasterKey(passphrase: string): MasterKey {
  if (passphrase.length === 0) throw new RangeError("the passphrase is empty");
  const bytes = scryptSync(passphrase.normalize("NFC"), SCRYPT_SALT, KEY_BYTES, {
    ...SCRYPT_COST,
    maxmem: SCRYPT_MAXMEM,
  });
  return new MasterKey(bytes);
}

// Passphrase + context -> channel key, in one (slow) call.
export function deriveKey(passphrase: string, context: string = DEFAULT_CONTEXT): Buffer {
  return deriveMasterKey(passphrase).channelKey(context);
}

/* ============================ Wire format ================================
 * A sealed message is one line of text, so the server's line handling stays
 * exactly as it was:
 *
 *     ~sc1 <base64( nonce[12] | ciphertext | tag[16] )>
 *
 * "sc1" is the format version; it is also the AEAD associated data, so a
 * line cannot be relabeled as another version without failing to open. The
 * ciphertext hides this plaintext:
 *
 *     session[8] | seq[4, big endian] | nickLen[1] | nick (UTF-8) | text (UTF-8)
 *
 * Length-prefixed bytes rather than JSON: the size of a message is then
 * known exactly in advance, which the line limit below needs.
 * ======================================================================== */

export const WIRE_VERSION = "sc1";
const MARKER = `~${WIRE_VERSION} `;
const AAD = Buffer.from(WIRE_VERSION, "ascii");
const VERSION_RE = /^~(sc[0-9]{1,6}) /;

const CIPHER = "aes-256-gcm";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SESSION_BYTES = 8;
const SEQ_BYTES = 4;
const HEADER_BYTES = SESSION_BYTES + SEQ_BYTES + 1;
const MAX_NICK_FIELD_BYTES = 255;
const MAX_SEQ = 0xffffffff;

// The server cuts lines longer than this, counting the "nick> " it adds in
// front and the final newline.
export const MAX_LINE_BYTES = 4096;
// Room kept for the server's prefix: a nick of up to this many bytes plus "> ".
export const NICK_ROOM_BYTES = 32;

export class MessageTooLongError extends Error {
  override readonly name = "MessageTooLongError";

  constructor(
    readonly textBytes: number,
    readonly maxTextBytes: number,
    readonly maxLineBytes: number,
  ) {
    super(
      `message is ${textBytes} bytes, at most ${maxTextBytes} fit in a ${maxLineBytes}-byte line`,
    );
  }
}

// The longest text (in UTF-8 bytes, not characters) that `nick` can seal
// into a line the server relays whole. Negative when nothing fits at all.
export function maxTextBytes(nick: string, maxLineBytes: number = MAX_LINE_BYTES): number {
  const lineRoom = maxLineBytes - (NICK_ROOM_BYTES + 2) - 1 - MARKER.length;
  const rawRoom = Math.floor(lineRoom / 4) * 3; // base64: 4 chars per 3 bytes
  return rawRoom - NONCE_BYTES - TAG_BYTES - HEADER_BYTES - Buffer.byteLength(nick, "utf8");
}

/* ============================ Sealing ====================================
 * Each box seals with a random session id and a counter that goes up by one
 * per message. Receivers remember the highest counter seen per (nick,
 * session), which is how a replayed line is recognized. A restarted client
 * picks a new session id, so its counter may start again from 1.
 * ======================================================================== */

export interface SealOptions {
  maxLineBytes?: number;
}

export interface SecretBoxOptions {
  context?: string;
  maxSessions?: number;
}

export type OpenResult =
  | { kind: "verified"; nick: string; text: string; nickMismatch: boolean }
  | { kind: "replay" }
  | { kind: "unauthenticated" }
  | { kind: "unknown-version"; version: string }
  | { kind: "plain" };

// Create a box for one channel. Pass a MasterKey instead of the passphrase
// to open many channels while paying for scrypt only once.
export function createSecretBox(
  secret: string | MasterKey,
  options: SecretBoxOptions = {},
): SecretBox {
  const master = typeof secret === "string" ? deriveMasterKey(secret) : secret;
  const context = options.context ?? DEFAULT_CONTEXT;
  return new SecretBox(master.channelKey(context), context, options.maxSessions);
}

export class SecretBox {
  readonly #key: Buffer;
  readonly #replays: ReplayGuard;
  #session = randomBytes(SESSION_BYTES);
  #seq = 0;

  constructor(
    key: Buffer,
    readonly context: string,
    maxSessions = MAX_SESSIONS,
  ) {
    this.#key = key;
    this.#replays = new ReplayGuard(maxSessions);
  }

  // Turn one chat line into "~sc1 ...", ready to send with a "\n". `nick` is
  // our own nick as we last set it with /nick: receivers compare it with the
  // nick the server puts in front. Throws MessageTooLongError rather than
  // produce a line the server would cut, which nobody could open.
  seal(nick: string, text: string, options: SealOptions = {}): string {
    const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
    const nickBytes = Buffer.from(nick, "utf8");
    const textBytes = Buffer.from(text, "utf8");
    if (nickBytes.length > MAX_NICK_FIELD_BYTES) {
      throw new RangeError(`nick is ${nickBytes.length} bytes, at most ${MAX_NICK_FIELD_BYTES}`);
    }
    const limit = maxTextBytes(nick, maxLineBytes);
    if (textBytes.length > limit) {
      throw new MessageTooLongError(textBytes.length, Math.max(0, limit), maxLineBytes);
    }

    // Four billion messages later the counter would wrap and look like a
    // replay; a fresh session id is a clean restart instead.
    if (this.#seq === MAX_SEQ) {
      this.#session = randomBytes(SESSION_BYTES);
      this.#seq = 0;
    }
    this.#seq++;

    const plain = Buffer.alloc(HEADER_BYTES + nickBytes.length + textBytes.length);
    this.#session.copy(plain, 0);
    plain.writeUInt32BE(this.#seq, SESSION_BYTES);
    plain.writeUInt8(nickBytes.length, SESSION_BYTES + SEQ_BYTES);
    nickBytes.copy(plain, HEADER_BYTES);
    textBytes.copy(plain, HEADER_BYTES + nickBytes.length);

    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(CIPHER, this.#key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(AAD);
    const sealed = Buffer.concat([
      nonce,
      cipher.update(plain),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return MARKER + sealed.toString("base64");
  }

  /* ============================ Opening ==================================
   * Anything can arrive here: server notices, lines from clients without a
   * passphrase, a hostile server's inventions. open() sorts them without
   * ever throwing; only "verified" carries text worth showing as a message.
   * ====================================================================== */

  // Open the part of a relayed line after "nick> ". `claimedNick` is that
  // nick, the one the server says sent it; the nick sealed inside wins, and
  // nickMismatch tells the caller to warn that the server relabeled it.
  open(line: string, claimedNick: string): OpenResult {
    const match = VERSION_RE.exec(line);
    if (match === null) return { kind: "plain" };
    const version = match[1] ?? "";
    if (version !== WIRE_VERSION) return { kind: "unknown-version", version };

    const plain = this.#decrypt(line.slice(match[0].length).replace(/\r?\n$/, ""));
    if (plain === null || plain.length < HEADER_BYTES) return { kind: "unauthenticated" };

    // The tag checked out, so a key holder wrote these bytes. A key holder
    // running other code can still write nonsense lengths: don't trust them.
    const nickLength = plain.readUInt8(SESSION_BYTES + SEQ_BYTES);
    if (HEADER_BYTES + nickLength > plain.length) return { kind: "unauthenticated" };
    const session = plain.subarray(0, SESSION_BYTES).toString("hex");
    const seq = plain.readUInt32BE(SESSION_BYTES);
    const nick = plain.subarray(HEADER_BYTES, HEADER_BYTES + nickLength).toString("utf8");
    const text = plain.subarray(HEADER_BYTES + nickLength).toString("utf8");

    if (!this.#replays.accept(nick, session, seq)) return { kind: "replay" };
    return { kind: "verified", nick, text, nickMismatch: nick !== claimedNick };
  }

  // Base64 text -> plaintext bytes, or null if it is not the canonical
  // base64 of something this key sealed (wrong key, tampered, truncated).
  #decrypt(encoded: string): Buffer | null {
    if (encoded.length > MAX_ENCODED_CHARS) return null;
    const raw = Buffer.from(encoded, "base64");
    // Node's decoder skips characters it does not know; re-encoding tells a
    // clean line from one with junk in it.
    if (raw.length < NONCE_BYTES + TAG_BYTES || raw.toString("base64") !== encoded) return null;

    const nonce = raw.subarray(0, NONCE_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const decipher = createDecipheriv(CIPHER, this.#key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(AAD);
    decipher.setAuthTag(tag);
    const plain = decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES));
    try {
      decipher.final(); // throws when the tag does not match: wrong key or tampering
    } catch {
      return null;
    }
    return plain;
  }
}

/* ============================ Replay memory ===============================
 * For every (nick, session) we keep the highest counter seen, and accept
 * only higher ones. Strictly increasing is enough: lines travel over one TCP
 * connection through one server, so they arrive in order unless someone
 * reorders them on purpose, and a line that arrives after a newer one from
 * the same sender is treated as a replay.
 *
 * Only lines that passed the tag get remembered, so only key holders can
 * make this memory grow; still, it is capped, forgetting the sessions heard
 * from least recently. A session forgotten that way could be replayed once
 * more: an acceptable hole for a chat room, not for a bank.
 * ======================================================================== */

const MAX_SESSIONS = 1024;
// Far above any line the server relays: refuse to base64-decode megabytes.
const MAX_ENCODED_CHARS = 64 * 1024;

class ReplayGuard {
  // Map keeps insertion order; re-inserting on every accepted line keeps the
  // least recently heard session first, ready to be evicted.
  readonly #highest = new Map<string, number>();

  constructor(readonly maxSessions: number) {}

  accept(nick: string, session: string, seq: number): boolean {
    const id = `${session}:${nick}`; // the session is fixed-width hex: no ambiguity
    const highest = this.#highest.get(id);
    if (highest !== undefined && seq <= highest) return false;
    this.#highest.delete(id);
    this.#highest.set(id, seq);
    if (this.#highest.size > this.maxSessions) {
      const oldest = this.#highest.keys().next().value;
      if (oldest !== undefined) this.#highest.delete(oldest);
    }
    return true;
  }
}
