// int64.test.ts -- counters and floats against answers recorded from a real
// redis-server 7.0.15 on x86-64 (SET k <a>, then INCRBY / INCRBYFLOAT k <b>).

import { corpusSteps } from "@smallchat/test/corpus";
import { describe, expect, it } from "vitest";

// Since step 16: runs against step 16 and every later step of its track.
for (const step of corpusSteps(16)) {
  describe(step.name, async () => {
    const {
      addInt64,
      ERR_NAN_OR_INF,
      ERR_NOT_FLOAT,
      ERR_NOT_INTEGER,
      ERR_OVERFLOW,
      formatLongDouble,
      INT64_MAX,
      INT64_MIN,
      incrByFloat,
      parseInt64,
      parseLongDouble,
    } = (await import(`${step.dir}src/int64.ts`)) as typeof import("../src/int64.ts");
    const b = (s: string) => Buffer.from(s, "latin1");

    // What INCRBY k <incr> answers when k holds <value>: the command's logic,
    // built from the two helpers as the command layer will.
    function incrBy(value: string, incr: string): string {
      const v = parseInt64(b(value));
      const i = parseInt64(b(incr));
      if (v === null || i === null) return ERR_NOT_INTEGER;
      return addInt64(v, i)?.toString() ?? ERR_OVERFLOW;
    }

    function incrFloat(value: string | undefined, incr: string): string {
      const r = incrByFloat(value === undefined ? undefined : b(value), b(incr));
      return typeof r === "string" ? r : r.toString("latin1");
    }

    describe("parseInt64 is Redis's string2ll", () => {
      it.each([
        ["0", 0n],
        ["1", 1n],
        ["-1", -1n],
        ["9223372036854775807", INT64_MAX],
        ["-9223372036854775808", INT64_MIN],
        ["9007199254740993", 9007199254740993n], // Past 2^53: a double would say ...992.
      ])("accepts %j", (s, v) => expect(parseInt64(b(s))).toBe(v));

      it.each([
        "",
        "-",
        "-0",
        "+1",
        "01",
        "00",
        " 1",
        "1 ",
        "1.0",
        "1e3",
        "0x10",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999",
        "18446744073709551616",
        "000000000000000000001",
        "1\0",
      ])("refuses %j", (s) => expect(parseInt64(b(s))).toBeNull());
    });

    describe("INCRBY at the int64 edges, as redis-server answers", () => {
      it.each([
        ["9223372036854775806", "1", "9223372036854775807"],
        ["9223372036854775807", "1", ERR_OVERFLOW],
        ["-9223372036854775807", "-1", "-9223372036854775808"],
        ["-9223372036854775808", "-1", ERR_OVERFLOW],
        ["0", "-9223372036854775808", "-9223372036854775808"],
        ["1", "-9223372036854775808", "-9223372036854775807"],
        ["-1", "-9223372036854775808", ERR_OVERFLOW],
        ["9223372036854775807", "-9223372036854775808", "-1"],
        ["0", "9223372036854775808", ERR_NOT_INTEGER],
        ["-0", "1", ERR_NOT_INTEGER],
        ["+1", "1", ERR_NOT_INTEGER],
        ["01", "1", ERR_NOT_INTEGER],
        [" 1", "1", ERR_NOT_INTEGER],
        ["1 ", "1", ERR_NOT_INTEGER],
        ["", "1", ERR_NOT_INTEGER],
        ["0", "+5", ERR_NOT_INTEGER],
        ["0", "05", ERR_NOT_INTEGER],
        ["0", "-0", ERR_NOT_INTEGER],
        ["0", "1.0", ERR_NOT_INTEGER],
        ["3.0", "1", ERR_NOT_INTEGER],
        ["99999999999999999999", "1", ERR_NOT_INTEGER],
      ])("%s + %s = %s", (value, incr, reply) => expect(incrBy(value, incr)).toBe(reply));
    });

    describe("INCRBYFLOAT in 80-bit long double, as redis-server answers", () => {
      it.each([
        ["10.5", "0.1", "10.6"],
        ["0.1", "0.2", "0.3"], // A double says 0.30000000000000004.
        ["10.6", "1e3", "1010.59999999999999998"], // A double says 1010.6.
        ["3.7", "1234567.1", "1234570.80000000000006821"],
        ["3.0e3", "0", "3000"],
        ["1.5", "1.5", "3"],
        ["5", "-5", "0"],
        ["-5.5", "5.5", "0"],
        ["1.1", "-2.2", "-1.1"],
        ["0.1", "0.7", "0.8"],
        ["0", "-0.0", "0"],
        ["0", "0x10", "16"],
        ["1", "0x1.8p1", "4"],
        ["16", "1.5e-5", "16.000015"],
        ["1", "1e20", "100000000000000000000"],
        ["100000000000000000000", "1e-20", "100000000000000000000"],
        ["2", "1e-17", "2.00000000000000001"],
        ["0", "1e-17", "0.00000000000000001"],
        ["0.00000000000000001", "5e-18", "0.00000000000000002"],
        ["0", "-1e-20", "0"], // "-0.00000000000000000" trimmed to "-0", then "0".
        ["1", "0.000003814697265625", "1.00000381469726562"], // A tie, to even.
        ["1", "0.000011444091796875", "1.00001144409179688"], // A tie, to even.
        ["9223372036854775807", "1", "9223372036854775808"],
        ["9007199254740993", "0", "9007199254740993"],
        ["1e19", "0", "10000000000000000000"],
        ["0", "123456789012345678901234567890", "123456789012345678899921813504"],
        ["0x1p-16445", "0", "0"], // The smallest subnormal: valid, prints as 0.
        ["0", ".5", "0.5"],
        ["0", "5.", "5"],
        ["0", "+1", "1"],
        ["0", "1E2", "100"],
      ])("%s + %s = %s", (value, incr, reply) => expect(incrFloat(value, incr)).toBe(reply));

      it("counts a missing key as 0", () => {
        expect(incrFloat(undefined, "3")).toBe("3");
      });

      it("holds numbers a double cannot (1e400, 1e308 + 1e308)", () => {
        const big = incrFloat("1", "1e400");
        expect(big).toHaveLength(401);
        expect(
          big.startsWith("10000000000000000000281880683947586514586453433629052038625910693"),
        ).toBe(true);
        expect(
          incrFloat("1e308", "1e308").startsWith(
            "199999999999999999993371759311691291321120199694831",
          ),
        ).toBe(true);
        expect(incrFloat("0", "1e4932")).toHaveLength(4933);
      });

      it.each([
        ["1", "inf", ERR_NAN_OR_INF],
        ["1", "-inf", ERR_NAN_OR_INF],
        ["1", "INF", ERR_NAN_OR_INF],
        ["1", "Infinity", ERR_NAN_OR_INF],
        ["1", "nan", ERR_NOT_FLOAT],
        ["1", "abc", ERR_NOT_FLOAT],
        ["1", " 1", ERR_NOT_FLOAT],
        ["1", "1 ", ERR_NOT_FLOAT],
        ["1", "1\t", ERR_NOT_FLOAT],
        ["1", "1e", ERR_NOT_FLOAT],
        ["1", "0x", ERR_NOT_FLOAT],
        ["1", "", ERR_NOT_FLOAT],
        ["1", "1e4933", ERR_NOT_FLOAT], // Overflows even 80 bits: strtold's ERANGE.
        ["1", "1e-5000", ERR_NOT_FLOAT], // Underflows to 0: ERANGE too.
        ["1e-4951", "0", ERR_NOT_FLOAT],
        ["abc", "1", ERR_NOT_FLOAT],
      ])("%s + %s is an error: %s", (value, incr, reply) =>
        expect(incrFloat(value, incr)).toBe(reply),
      );

      it("refuses input of 5 KiB or more, as Redis's MAX_LONG_DOUBLE_CHARS", () => {
        expect(parseLongDouble(b(`1.${"0".repeat(5000)}`))).not.toBeNull();
        expect(parseLongDouble(b(`1.${"0".repeat(5200)}`))).toBeNull();
      });

      it("prints infinities as Redis's ld2string does", () => {
        expect(formatLongDouble({ kind: "inf", negative: true })).toBe("-inf");
      });
    });
  });
}
