// command-docs.ts -- a command's arguments, from one line of usage syntax to Redis's tree.
//
// COMMAND DOCS describes every argument of every command as a tree: SET
// takes a key, a value, an optional "condition" that is one of NX or XX,
// and so on. redis-cli reads that tree to print `help SET` and the grey
// hints after what you type. Writing the tree out by hand would be pages
// of nested objects per command; instead each row of the command table
// carries one line that reads like the usage line in Redis's manual, and
// this file turns it into the tree:
//
//   key:key value [condition=(NX|XX)@2.6.12] [GET@6.2.0]
//
//   name             an argument of type string          (value)
//   name:type        another type: key, integer, double, pattern, unix-time
//   TOKEN            a word typed as is (a "pure token"), named in lowercase
//   name=TOKEN       the same with another name          (equal==)
//   TOKEN arg        an argument introduced by a word    (EX seconds:integer)
//   name=(a|b)       one of the alternatives ("oneof")
//   name=(a b)       several arguments together ("block")
//   [arg]            optional
//   arg...           may repeat; arg...+ repeats with its token each time
//   arg@6.2.0        the version that added it; arg!2.8.12 deprecated since
//
// Arguments of type key are numbered in order (key_spec_index), which is
// how Redis links them to its key specs.

import type { ReplyWriter } from "./resp.ts";

export interface DocArg {
  name: string;
  type: string;
  keySpecIndex?: number;
  token?: string;
  since?: string;
  deprecatedSince?: string;
  flags: string[]; // "optional", "multiple", "multiple_token", in that order.
  args?: DocArg[]; // The alternatives of a oneof, the parts of a block.
}

const TYPES = new Set(["string", "integer", "double", "key", "pattern", "unix-time"]);

// A syntax error in a usage line is a bug in the command table: say where.
function fail(text: string, pos: number, what: string): never {
  throw new Error(`usage syntax: ${what} at ${pos} in ${JSON.stringify(text)}`);
}

// Parse a usage line into its top-level arguments.
export function parseSyntax(text: string): DocArg[] {
  let pos = 0;
  let keys = 0;

  const peek = (): string => text[pos] ?? "";
  const word = (): string => {
    const start = pos;
    while (pos < text.length && !" []()|".includes(text[pos]!)) pos++;
    return text.slice(start, pos);
  };

  // One argument, with its brackets, token, suffixes.
  const item = (): DocArg => {
    if (peek() === "[") {
      pos++;
      const arg = item();
      if (peek() !== "]") fail(text, pos, "expected ]");
      pos++;
      arg.flags.unshift("optional");
      return arg;
    }
    let w = word();
    let token: string | undefined;
    // An uppercase word followed by another argument is that argument's token.
    if (/^[A-Z][A-Z0-9_-]*$/.test(w) && peek() === " " && !"[]|)".includes(text[pos + 1] ?? "]")) {
      const save = pos;
      pos++;
      const next = word();
      if (/[a-z]/.test(next) || next.endsWith("=")) {
        token = w;
        w = next;
      } else {
        pos = save;
      }
    }
    let arg: DocArg;
    const eq = w.indexOf("=");
    if (eq > 0 && w.endsWith("=") && peek() === "(") {
      pos++;
      const parts = sequence(")");
      pos++;
      arg = { name: w.slice(0, eq), type: parts.oneof ? "oneof" : "block", flags: [] };
      arg.args = parts.args;
    } else if (eq > 0) {
      arg = { name: w.slice(0, eq), type: "pure-token", token: w.slice(eq + 1), flags: [] };
    } else if (/^[A-Z][A-Z0-9_-]*/.test(w) && token === undefined) {
      const bare = /^[A-Z][A-Z0-9_-]*/.exec(w)![0];
      pos -= w.length - bare.length;
      arg = { name: bare.toLowerCase(), type: "pure-token", token: bare, flags: [] };
    } else {
      const m = /^([^@!.]+?)(?::([a-z-]+))?(?=$|[@!.])/.exec(w);
      if (m === null || (m[2] !== undefined && !TYPES.has(m[2])))
        fail(text, pos, `bad argument ${w}`);
      arg = { name: m[1]!, type: m[2] ?? "string", flags: [] };
      pos -= w.length - m[0].length;
      if (arg.type === "key") arg.keySpecIndex = keys++;
    }
    if (token !== undefined) arg.token = token;
    // Suffixes: ..., +, @since, !deprecated.
    while (true) {
      if (text.startsWith("...", pos)) {
        pos += 3;
        arg.flags.push("multiple");
      } else if (peek() === "+") {
        pos++;
        arg.flags.push("multiple_token");
      } else if (peek() === "@" || peek() === "!") {
        const mark = text[pos++];
        const v = /^[0-9.]+[0-9]/.exec(text.slice(pos))?.[0];
        if (v === undefined) fail(text, pos, "expected a version");
        pos += v.length;
        if (mark === "@") arg.since = v;
        else arg.deprecatedSince = v;
      } else {
        return arg;
      }
    }
  };

  // Arguments up to `end` (or the end of the text), separated by spaces,
  // or alternatives separated by "|".
  const sequence = (end: string): { args: DocArg[]; oneof: boolean } => {
    const args: DocArg[] = [];
    let oneof = false;
    while (pos < text.length && peek() !== end) {
      args.push(item());
      if (peek() === "|") oneof = true;
      if (peek() === " " || peek() === "|") pos++;
      else if (peek() !== end && pos < text.length) fail(text, pos, `unexpected ${peek()}`);
    }
    if (end !== "" && peek() !== end) fail(text, pos, `expected ${end}`);
    return { args, oneof };
  };

  return text === "" ? [] : sequence("").args;
}

// The tree as COMMAND DOCS sends it: a map per argument, Redis's fields in
// Redis's order.
export function replyDocArgs(out: ReplyWriter, args: DocArg[]): void {
  out.array(args.length);
  for (const a of args) {
    const fields =
      2 +
      (a.keySpecIndex !== undefined ? 1 : 0) +
      (a.token !== undefined ? 1 : 0) +
      (a.since !== undefined ? 1 : 0) +
      (a.deprecatedSince !== undefined ? 1 : 0) +
      (a.flags.length > 0 ? 1 : 0) +
      (a.args !== undefined ? 1 : 0);
    out.map(fields);
    out.bulk("name");
    out.bulk(a.name);
    out.bulk("type");
    out.bulk(a.type);
    if (a.keySpecIndex !== undefined) {
      out.bulk("key_spec_index");
      out.integer(a.keySpecIndex);
    }
    if (a.token !== undefined) {
      out.bulk("token");
      out.bulk(a.token);
    }
    if (a.since !== undefined) {
      out.bulk("since");
      out.bulk(a.since);
    }
    if (a.deprecatedSince !== undefined) {
      out.bulk("deprecated_since");
      out.bulk(a.deprecatedSince);
    }
    if (a.flags.length > 0) {
      out.bulk("flags");
      out.set(a.flags.length);
      for (const f of a.flags) out.simple(f);
    }
    if (a.args !== undefined) {
      out.bulk("arguments");
      replyDocArgs(out, a.args);
    }
  }
}
