// int64.ts -- Redis's numbers, exactly: signed 64-bit counters and 80-bit floats.
//
// INCR and friends work on strings that look like numbers, and Redis's
// numbers are C's: a counter is a signed 64-bit integer (long long), from
// -9223372036854775808 to 9223372036854775807. A JS number is a double,
// exact only up to 2^53, so 9007199254740993 would silently become ...992.
// BigInt is exact at any size, so we compute in BigInt and check the int64
// bounds ourselves, as Redis checks them before every addition.
//
// What counts as an integer is Redis's string2ll() (src/util.c), which is
// stricter than parseInt or Number: digits only, an optional "-", no "+",
// no spaces, no leading zeros (so "01" and "-0" are not integers), at most
// 20 characters. "1.0" is a string, not an integer, even though it reads
// as one.
//
// INCRBYFLOAT is stranger. Redis adds in C's long double, which on x86-64
// is the 80-bit x87 format: a 64-bit significand (a double has 53 bits) and
// exponents up to 2^16383 (a double stops at 2^1023). It prints the sum
// with printf("%.17Lf"), 17 digits after the point, then trims trailing
// zeros. The extra bits hide the usual surprise: 0.1 + 0.2 answers "0.3",
// where JS says 0.30000000000000004. But once a number has a few digits
// before the point, 17 after it are more than 80 bits hold, and the binary
// rounding shows again: 10.6 + 1e3 answers "1010.59999999999999998", where
// JS says 1010.6. A double reproduces neither answer (nor 1e400, which an
// 80-bit float holds and a double cannot), so we use no doubles: a
// LongDouble below is the 80-bit value itself, a BigInt significand and a
// power of two, rounded after parsing and after adding exactly as the x87
// rounds (to nearest, ties to even), and printed from its exact decimal
// expansion. The price is speed (a few microseconds per INCRBYFLOAT), fine
// for a command nobody runs in a tight loop.
//
// Redis itself differs by platform: on arm64 Linux long double is 128-bit,
// and on Apple silicon it is just a double. We match x86-64 Linux, the
// redis-server our tests compare against.

/* ============================ Errors ======================================
 * Redis's exact texts, for the command layer to send as "-ERR ...".
 * ======================================================================== */

export const ERR_NOT_INTEGER = "ERR value is not an integer or out of range";
export const ERR_OVERFLOW = "ERR increment or decrement would overflow";
// DECRBY negates its argument before adding, and -(-2^63) is not an int64:
// Redis refuses DECRBY k -9223372036854775808 with this text, whatever k holds.
export const ERR_DECR_OVERFLOW = "ERR decrement would overflow";
export const ERR_NOT_FLOAT = "ERR value is not a valid float";
export const ERR_NAN_OR_INF = "ERR increment would produce NaN or Infinity";

/* ============================ 64-bit integers ============================= */

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

// Redis's LONG_STR_SIZE: 20 characters hold any int64, sign included.
const MAX_INT64_CHARS = 20;

const ZERO = 0x30; // "0"
const NINE = 0x39; // "9"
const MINUS = 0x2d; // "-"

// Parse bytes as string2ll() does; null if they are not an int64.
export function parseInt64(bytes: Buffer): bigint | null {
  const len = bytes.length;
  if (len === 0 || len > MAX_INT64_CHARS) return null;
  if (len === 1 && bytes[0] === ZERO) return 0n;
  let i = bytes[0] === MINUS ? 1 : 0;
  // The first digit must be 1-9: "0" alone was handled above, so a leading
  // zero ("01", "-0") makes it not a number.
  const first = bytes[i];
  if (first === undefined || first <= ZERO || first > NINE) return null;
  for (i++; i < len; i++) {
    const c = bytes[i]!;
    if (c < ZERO || c > NINE) return null;
  }
  const value = BigInt(bytes.toString("latin1"));
  return value < INT64_MIN || value > INT64_MAX ? null : value;
}

// a + b, or null when the sum leaves int64: INCRBY's "increment or
// decrement would overflow". Redis checks before adding, since overflowing
// a long long is undefined behaviour in C; BigInt cannot overflow, so we
// may simply add and look.
export function addInt64(a: bigint, b: bigint): bigint | null {
  const sum = a + b;
  return sum < INT64_MIN || sum > INT64_MAX ? null : sum;
}

/* ============================ 80-bit floats ===============================
 * A LongDouble is sign * significand * 2^exponent, the significand below
 * 2^64 (a 64-bit integer, as in the x87 register), or an infinity. NaN is
 * never stored: Redis refuses it as input and as a result.
 * ======================================================================== */

export type LongDouble =
  | {
      readonly kind: "finite";
      readonly negative: boolean;
      readonly sig: bigint;
      readonly exp: number;
    }
  | { readonly kind: "inf"; readonly negative: boolean };

const SIG_BITS = 64;
// The smallest exponent of a significand's lowest bit: normal numbers
// reach down to 2^-16382 with their top bit, subnormals lose precision
// below that, down to 2^-16445.
const MIN_EXP = -16382 - (SIG_BITS - 1);
// A value at or above 2^16384 is infinite.
const MAX_TOP_BIT = 16383;

// Decimal exponents beyond which a value surely overflows (the largest
// 80-bit float is about 1.19e4932) or rounds to zero (the smallest is about
// 3.6e-4951, and half of it rounds to zero).
const MAX_DECIMAL_TOP = 4932;
const MIN_DECIMAL_TOP = -4952;

// Redis's MAX_LONG_DOUBLE_CHARS: longer input is not a float.
const MAX_FLOAT_CHARS = 5 * 1024;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

// Round num/den * 2^exp2 (num > 0, den > 0) to the nearest LongDouble,
// ties to even, as the FPU does after every operation and strtold does
// after parsing. Infinite if too big; zero if too small even for a
// subnormal.
function round(negative: boolean, num: bigint, den: bigint, exp2: number): LongDouble {
  // Where the top bit of the value is: floor(log2(num / den)) + exp2.
  let top = bitLength(num) - bitLength(den);
  if (top >= 0 ? num < den << BigInt(top) : num << BigInt(-top) < den) top--;
  top += exp2;
  if (top > MAX_TOP_BIT) return { kind: "inf", negative };
  // The weight of the significand's lowest bit; fixed at MIN_EXP for
  // subnormals, so they keep fewer bits.
  let exp = Math.max(top - (SIG_BITS - 1), MIN_EXP);
  const shift = exp2 - exp;
  const n = shift >= 0 ? num << BigInt(shift) : num;
  const d = shift >= 0 ? den : den << BigInt(-shift);
  let sig = n / d;
  const twiceRest = (n % d) * 2n;
  if (twiceRest > d || (twiceRest === d && (sig & 1n) === 1n)) sig++;
  if (sig === 1n << BigInt(SIG_BITS)) {
    sig >>= 1n; // Rounding carried into a new top bit: 0xff..f + 1.
    exp++;
    if (exp + SIG_BITS - 1 > MAX_TOP_BIT) return { kind: "inf", negative };
  }
  return { kind: "finite", negative, sig, exp };
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const HEX = /^([+-]?)0[xX]([\da-fA-F]*)(?:\.([\da-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;

// Parse bytes as Redis's string2ld() does (strtold, then refusing spaces,
// trailing bytes, NaN, and values too big or too small for the type); null
// if they are not a float. Accepts what strtold accepts: "1e3", ".5", "5.",
// "+1", "0x1.8p1", "inf", "infinity" in any case.
export function parseLongDouble(bytes: Buffer): LongDouble | null {
  if (bytes.length === 0 || bytes.length >= MAX_FLOAT_CHARS) return null;
  const s = bytes.toString("latin1");
  const inf = INFINITY.exec(s);
  if (inf !== null) return { kind: "inf", negative: inf[1] === "-" };
  let negative: boolean;
  let digits: string; // All significant digits, point removed.
  let fraction: number; // How many of them were after the point.
  let exponent: string | undefined;
  let radix: 10n | 16n;
  const hex = HEX.exec(s);
  const dec = hex === null ? DECIMAL.exec(s) : null;
  if (hex !== null) {
    [, , digits = "", , exponent] = hex;
    negative = hex[1] === "-";
    fraction = hex[3]?.length ?? 0;
    digits += hex[3] ?? "";
    radix = 16n;
  } else if (dec !== null) {
    [, , digits = "", , exponent] = dec;
    negative = dec[1] === "-";
    fraction = dec[3]?.length ?? 0;
    digits += dec[3] ?? "";
    radix = 10n;
  } else {
    return null;
  }
  if (digits === "") return null; // ".", "0x", "e5": strtold stops early.
  const mantissa = BigInt(radix === 16n ? `0x${digits}` : digits);
  if (mantissa === 0n) return { kind: "finite", negative, sig: 0n, exp: 0 };
  // Exponents far out of range answer without computing 10^e, which could
  // have billions of digits: input that overflows or underflows even an
  // 80-bit float is refused (below), and saying so early keeps a hostile
  // "1e-99999" from costing milliseconds of BigInt work.
  const e = Number(exponent ?? "0");
  if (!Number.isSafeInteger(e)) return null;
  let value: LongDouble;
  if (radix === 16n) {
    const p = e - 4 * fraction;
    const top = bitLength(mantissa) - 1 + p; // The value is in [2^top, 2^(top+1)).
    if (top > MAX_TOP_BIT || top < MIN_EXP - 2) return null;
    value = round(negative, mantissa, 1n, p);
  } else {
    const p = e - fraction;
    const top = mantissa.toString().length - 1 + p; // In [10^top, 10^(top+1)).
    if (top > MAX_DECIMAL_TOP || top < MIN_DECIMAL_TOP) return null;
    value =
      p >= 0
        ? round(negative, mantissa * 10n ** BigInt(p), 1n, 0)
        : round(negative, mantissa, 10n ** BigInt(-p), 0);
  }
  // strtold's ERANGE: an overflow to infinity, or an underflow to zero, is
  // not a valid float for Redis.
  if (value.kind === "inf" || value.sig === 0n) return null;
  return value;
}

// a + b rounded once, as the FPU adds; null when the sum is NaN or
// infinite (INCRBYFLOAT's "increment would produce NaN or Infinity").
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.kind === "inf" || b.kind === "inf") return null;
  if (a.sig === 0n) return b;
  if (b.sig === 0n) return a;
  // Line both up on the smaller exponent; the sum is then an exact integer.
  const exp = Math.min(a.exp, b.exp);
  const av = a.sig << BigInt(a.exp - exp);
  const bv = b.sig << BigInt(b.exp - exp);
  const sum = (a.negative ? -av : av) + (b.negative ? -bv : bv);
  if (sum === 0n) return { kind: "finite", negative: false, sig: 0n, exp: 0 };
  const value = round(sum < 0n, sum < 0n ? -sum : sum, 1n, exp);
  return value.kind === "inf" ? null : value;
}

const FRACTION_DIGITS = 17;
const SCALE = 10n ** BigInt(FRACTION_DIGITS);

// Print as Redis's ld2string(LD_STR_HUMAN): "%.17Lf", trailing zeros and a
// trailing point removed, "-0" turned into "0". printf rounds the exact
// binary value to 17 decimals, ties to even.
export function formatLongDouble(v: LongDouble): string {
  if (v.kind === "inf") return v.negative ? "-inf" : "inf";
  let scaled: bigint; // |v| * 10^17, rounded.
  if (v.exp >= 0) {
    scaled = (v.sig << BigInt(v.exp)) * SCALE;
  } else {
    const den = 1n << BigInt(-v.exp);
    const n = v.sig * SCALE;
    scaled = n / den;
    const twiceRest = (n % den) * 2n;
    if (twiceRest > den || (twiceRest === den && (scaled & 1n) === 1n)) scaled++;
  }
  if (scaled === 0n) return "0";
  const whole = (scaled / SCALE).toString();
  const fraction = (scaled % SCALE).toString().padStart(FRACTION_DIGITS, "0").replace(/0+$/, "");
  return `${v.negative ? "-" : ""}${whole}${fraction === "" ? "" : `.${fraction}`}`;
}

const ZERO_LD: LongDouble = { kind: "finite", negative: false, sig: 0n, exp: 0 };

// The whole of INCRBYFLOAT's arithmetic: the current value (undefined if
// the key is missing, which counts as 0) plus the increment, as the bytes
// to store and reply; or, as a string, the error text to send. The current
// value is checked first, as Redis does; both get the same text.
export function incrByFloat(
  current: Buffer | undefined,
  increment: Buffer,
): Buffer | typeof ERR_NOT_FLOAT | typeof ERR_NAN_OR_INF {
  const value = current === undefined ? ZERO_LD : parseLongDouble(current);
  const incr = parseLongDouble(increment);
  if (value === null || incr === null) return ERR_NOT_FLOAT;
  const sum = addLongDouble(value, incr);
  if (sum === null) return ERR_NAN_OR_INF;
  return Buffer.from(formatLongDouble(sum), "latin1");
}
