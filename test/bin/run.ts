// run.ts -- `npm start` and `npm run client`: run a step's server or client.
//
//   npm start                    the newest step's server
//   npm start -- 02 --port 7000  step 02's server, with its own flags
//   npm run client -- localhost  the newest step's client
//
// The program is imported into this very process, with process.argv set as
// if it had been started directly: no second process to forward signals
// and the terminal to.

import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { findStep, listSteps } from "../src/steps.ts";

const [kind, first, ...rest] = process.argv.slice(2);
const all = listSteps().filter((s) =>
  kind === "client" ? s.client || s.track === "redis" : s.server,
);
const chosen = first !== undefined ? findStep(all, first) : undefined;
// Unnamed, the newest chat step: the Redis steps are started by number.
const step = chosen ?? all.filter((s) => s.track === "chat").at(-1);
const args = chosen || first === undefined ? rest : [first, ...rest];

if (step === undefined || (kind !== "server" && kind !== "client")) {
  console.error("usage: run.ts server|client [step] [args...]");
  process.exit(2);
}
// A Redis step's client is redis-cli itself (args go to it: -p 6380 ...).
if (kind === "client" && step.track === "redis") {
  const cli = spawnSync("redis-cli", args, { stdio: "inherit" });
  if (cli.error !== undefined) {
    console.error(
      "redis-cli is not installed: apt-get install redis-tools (or brew install redis)",
    );
    process.exit(1);
  }
  process.exit(cli.status ?? 1);
}
const file = kind === "client" ? step.client! : step.server;
process.argv = [process.argv[0]!, file, ...args];
await import(pathToFileURL(file).href);
