// encryption.ts -- seal chat lines so only the people who hold the group key can read them.
//
// Until step 06 the server read every word we typed: it had to, to add the
// "nick> " prefix and relay the line. It still relays lines, but now the
// clients of a group share a key and turn each chat line into an
// opaque blob before it leaves the terminal. The server forwards the blob
// like any other text and never learns what it says.
//
// This is *symmetric* encryption: the same secret key locks and unlocks, and
// every member holds it. Public-key crypto (each person has a key pair, and
// anyone can lock a message that only the owner of the private key can open)
// solves a harder problem: talking to people you never met to agree on a
// secret. A chat group that already shares a key has no such problem,
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
// - members from each other. One key for everybody means any member can
//   seal a line in another member's name, and read every /msg of the group:
//   the sealed nick proves "a key holder wrote this", never "alice wrote
//   this". Real designs give every sender a signing key of their own
//   (Signal's sender keys, Matrix's Megolm) and every pair of people their
//   own private key;
// - a member who leaks the key, or an ex-member who still knows it: changing
//   it means telling everybody;
// - the past: there is no forward secrecy. Whoever records today's traffic
//   and learns the key next year reads all of it;
// - time and order. Naive on purpose: a sealed line opens as well the
//   second time as the first, a week later, or after the line that followed
//   it, so a server can replay, hold back or drop lines unseen. Step 07 fixes this.

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync } from "node:crypto";

/* ============================ Keys ========================================
 * The best key is 32 random bytes: nothing to guess, nothing to stretch.
 * `--new-key` prints one as "sck1.<base64url>", and a group passes it
 * around like a passphrase. A group that wants something a human can type
 * uses a passphrase instead, and a passphrase is far too guessable to be a
 * key: scrypt stretches it, so every guess costs an attacker the ~1 s and
 * 128 MiB it costs us once, at startup (N = 2^17, as age and OWASP use).
 *
 * scrypt also takes a salt, so that one list of precomputed guesses cannot
 * attack every group at once. A salt is not a secret, just unique to the
 * group, so it travels with the passphrase in the key string:
 * "scp1.<salt>.<passphrase>" (`--new-salt` prints the "scp1.<salt>." part).
 * The server never carries it and never has to be trusted with it.
 *
 * From the master key, each channel gets its own key with HKDF, which is
 * cheap, so joining a room costs nothing and the traffic of one room says
 * nothing about another's key.
 * ======================================================================== */

export const SCRYPT_COST = { N: 2 ** 17, r: 8, p: 1 } as const;

// scrypt needs 128 * N * r bytes (128 MiB here) plus a little bookkeeping;
// Node's default limit is 32 MiB, so without this it refuses.
const SCRYPT_MAXMEM = 2 * 128 * SCRYPT_COST.N * SCRYPT_COST.r;

const HKDF_INFO_PREFIX = "smallchat-ts/v1 channel ";
const KEY_BYTES = 32;
const SALT_BYTES = 16;
export const RANDOM_KEY_PREFIX = "sck1.";
export const SALTED_PREFIX = "scp1.";
// Below this many characters a passphrase gets a warning: a few words
// picked by a human fall to a guess list, however slow each guess is.
export const SHORT_PASSPHRASE_CHARS = 20;

// Until step 08 there is one room, so every line uses this context. Step 08
// passes the channel name instead; a client of step 07 then talks to the
// step 08 room that carries this same name.
export const DEFAULT_CONTEXT = "#lobby";

// The master key is kept inside an object instead of a bare Buffer so it
// cannot be passed by mistake where a channel key (or a passphrase) belongs.
export class MasterKey {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    if (bytes.length !== KEY_BYTES) throw new RangeError(`a master key is ${KEY_BYTES} bytes`);
    this.#bytes = Buffer.from(bytes);
  }

  // The key for one channel. Different contexts give independent keys. The
  // name is used byte for byte as the server spells it: "#café" typed two
  // ways is two channels there, so it must be two keys here.
  channelKey(context: string = DEFAULT_CONTEXT): Buffer {
    const info = HKDF_INFO_PREFIX + context;
    return Buffer.from(hkdfSync("sha256", this.#bytes, Buffer.alloc(0), info, KEY_BYTES));
  }
}

export class KeyFormatError extends Error {
  override readonly name = "KeyFormatError";
}

// A fresh random key, in the form parseKey() reads back.
export function newKey(): string {
  return RANDOM_KEY_PREFIX + randomBytes(KEY_BYTES).toString("base64url");
}

// A fresh salt, as the start of a salted passphrase: append the passphrase.
export function newSalt(): string {
  return `${SALTED_PREFIX}${randomBytes(SALT_BYTES).toString("base64url")}.`;
}

export type ParsedKey =
  | { kind: "random"; bytes: Buffer }
  | { kind: "passphrase"; salt: Buffer; passphrase: string };

// A key string (SMALLCHAT_KEY, or a --key-file) -> what it holds. A bare
// passphrase is refused: without its group's salt it would be derived with
// everybody else's, which is the precomputation the salt is there to stop.
export function parseKey(text: string): ParsedKey {
  if (text.startsWith(RANDOM_KEY_PREFIX)) {
    const encoded = text.slice(RANDOM_KEY_PREFIX.length);
    const bytes = Buffer.from(encoded, "base64url");
    if (bytes.length !== KEY_BYTES || bytes.toString("base64url") !== encoded) {
      throw new KeyFormatError(`a ${RANDOM_KEY_PREFIX} key is ${KEY_BYTES} bytes in base64url`);
    }
    return { kind: "random", bytes };
  }
  if (text.startsWith(SALTED_PREFIX)) {
    const dot = text.indexOf(".", SALTED_PREFIX.length);
    const encoded = text.slice(SALTED_PREFIX.length, dot === -1 ? undefined : dot);
    const salt = Buffer.from(encoded, "base64url");
    const passphrase = dot === -1 ? "" : text.slice(dot + 1);
    if (salt.length < SALT_BYTES || salt.toString("base64url") !== encoded) {
      throw new KeyFormatError(`the salt of ${SALTED_PREFIX}<salt>.<passphrase> is invalid`);
    }
    if (passphrase === "") throw new KeyFormatError("the passphrase is empty");
    return { kind: "passphrase", salt, passphrase };
  }
  throw new KeyFormatError(
    `a key is ${RANDOM_KEY_PREFIX}<key> (make one with --new-key) or ` +
      `${SALTED_PREFIX}<salt>.<passphrase> (--new-salt prints the part before the passphrase)`,
  );
}

// Run scrypt on the passphrase: the slow step, done once per start. NFC
// normalization makes "é" typed as one code point or as "e" plus an accent
// derive the same key on every member's keyboard.
export function deriveMasterKey(passphrase: string, salt: Buffer): MasterKey {
  if (passphrase.length === 0) throw new RangeError("the passphrase is empty");
  const bytes = scryptSync(passphrase.normalize("NFC"), salt, KEY_BYTES, {
    ...SCRYPT_COST,
    maxmem: SCRYPT_MAXMEM,
  });
  return new MasterKey(bytes);
}

// A key string -> the master key (slow for a passphrase, instant for a key).
export function masterKeyFrom(text: string): MasterKey {
  const key = parseKey(text);
  if (key.kind === "random") return new MasterKey(key.bytes);
  return deriveMasterKey(key.passphrase, key.salt);
}

/* ============================ Wire format ================================
 * A sealed message is one line of text, so the server's line handling stays
 * exactly as it was:
 *
 *     ~sc0 <base64( nonce[12] | ciphertext | tag[16] )>
 *
 * "sc0" is the format version; it is also the AEAD associated data, so a
 * line cannot be relabeled as another version without failing to open. The
 * ciphertext hides this plaintext:
 *
 *     nickLen[1] | nick | text                          (strings UTF-8)
 *
 * The sender's nick is sealed with the text: the server puts a "nick> " in
 * front of every line it relays, and a server that puts the wrong one is
 * caught. Length-prefixed bytes rather than JSON: the size of a message is
 * then known exactly in advance, which the line limit below needs. (Step 07
 * seals more than this, and calls that format sc1.)
 * ======================================================================== */

export const WIRE_VERSION = "sc0";
const MARKER = `~${WIRE_VERSION} `;
const AAD = Buffer.from(WIRE_VERSION, "ascii");
const VERSION_RE = /^~(sc[0-9]{1,6}) /;

const CIPHER = "aes-256-gcm";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const NICK_LEN_AT = 0;
const HEADER_BYTES = 1; // The nick's length byte.
const MAX_NAME_FIELD_BYTES = 255;
// Far above any line the server relays: refuse to base64-decode megabytes.
const MAX_ENCODED_CHARS = 64 * 1024;

// The server refuses a line it receives longer than this (its "\n" not
// counted). That is the line as we send it: "/msg bob " and all. What the
// server adds in front when it relays ("alice> ") is not limited.
export const MAX_LINE_BYTES = 4096;

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

export interface SealOptions {
  // What goes on the wire before the sealed text ("/msg bob "): it counts
  // against the line limit too.
  prefix?: string;
  maxLineBytes?: number;
}

// The longest text (in UTF-8 bytes, not characters) that `nick` can seal
// into a line the server accepts whole. Negative when nothing fits at all.
export function maxTextBytes(nick: string, options: SealOptions = {}): number {
  const { prefix = "", maxLineBytes = MAX_LINE_BYTES } = options;
  const lineRoom = maxLineBytes - Buffer.byteLength(prefix, "utf8") - MARKER.length;
  const rawRoom = Math.floor(lineRoom / 4) * 3; // base64: 4 chars per 3 bytes
  const names = Buffer.byteLength(nick, "utf8");
  return rawRoom - NONCE_BYTES - TAG_BYTES - HEADER_BYTES - names;
}

/* ============================ Sealing ====================================
 * A box holds the key of one channel and seals and opens its lines.
 * ======================================================================== */

export interface SecretBoxOptions {
  context?: string;
}

export type OpenResult =
  | { kind: "verified"; nick: string; text: string; nickMismatch: boolean }
  | { kind: "unauthenticated" }
  | { kind: "unknown-version"; version: string }
  | { kind: "plain" };

// Create a box for one channel from a master key, so many channels pay for
// scrypt only once.
export function createSecretBox(master: MasterKey, options: SecretBoxOptions = {}): SecretBox {
  const context = options.context ?? DEFAULT_CONTEXT;
  return new SecretBox(master.channelKey(context), context);
}

export class SecretBox {
  readonly #key: Buffer;

  constructor(
    key: Buffer,
    readonly context: string,
  ) {
    this.#key = key;
  }

  // Turn one chat line into "~sc0 ...", ready to send after options.prefix
  // and before a "\n". `nick` is our own nick: receivers compare it with the
  // nick the server puts in front. Throws MessageTooLongError rather than
  // produce a line the server would refuse.
  seal(nick: string, text: string, options: SealOptions = {}): string {
    const { maxLineBytes = MAX_LINE_BYTES } = options;
    const nickBytes = Buffer.from(nick, "utf8");
    const textBytes = Buffer.from(text, "utf8");
    if (nickBytes.length > MAX_NAME_FIELD_BYTES) {
      throw new RangeError(`a nick is at most ${MAX_NAME_FIELD_BYTES} bytes`);
    }
    const limit = maxTextBytes(nick, options);
    if (textBytes.length > limit) {
      throw new MessageTooLongError(textBytes.length, Math.max(0, limit), maxLineBytes);
    }

    const plain = Buffer.alloc(HEADER_BYTES + nickBytes.length + textBytes.length);
    plain.writeUInt8(nickBytes.length, NICK_LEN_AT);
    nickBytes.copy(plain, NICK_LEN_AT + 1);
    textBytes.copy(plain, NICK_LEN_AT + 1 + nickBytes.length);

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
   * key, a hostile server's inventions. open() sorts them without ever
   * throwing; only "verified" carries text worth showing as a message.
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
    // running other code can still write a nonsense length: don't trust it.
    const length = plain.readUInt8(NICK_LEN_AT);
    const textAt = NICK_LEN_AT + 1 + length;
    if (textAt > plain.length) return { kind: "unauthenticated" };
    const nick = plain.subarray(NICK_LEN_AT + 1, textAt).toString("utf8");
    const text = plain.subarray(textAt).toString("utf8");
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
