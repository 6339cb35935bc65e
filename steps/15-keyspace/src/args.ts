// args.ts -- reading a command's arguments: option words, the syntax error.
//
// Every family parses its options the way Redis does: a word matches in
// any case ("setname", "SETNAME", "SetName"), and an option that is not
// there is the one "syntax error". They live here once, so every family
// answers in the same words, and no family imports another to borrow a
// helper.

export const SYNTAX_ERROR = "ERR syntax error";

// An option word, lowercased for comparison.
export function lower(b: Buffer): string {
  return b.toString("latin1").toLowerCase();
}
