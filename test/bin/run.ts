// run.ts -- `npm start` and `npm run client`: run a step's server or client.
//
//   npm start                    the newest chat step's server
//   npm start -- 02 --port 7000  step 02's server, with its own flags
//   npm run client -- localhost  the newest chat step's client
//   npm run client -- 24 --port 6390   redis-cli -p 6390, for a Redis step
//
// The program is imported into this very process, with process.argv set as
// if it had been started directly: no second process to forward signals
// and the terminal to. The npm scripts start this file with `exec node
// --import tsx`, not with the `tsx` binary: tsx would be one more process
// between npm and the server, and the shell one more still; when npm passes
// on a SIGTERM, the server must be the one that gets it.

import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { listSteps, resolveRun } from "../src/steps.ts";

const [kind, ...argv] = process.argv.slice(2);
if (kind !== "server" && kind !== "client") {
  console.error("usage: run.ts server|client [step] [args...]");
  process.exit(2);
}
const run = resolveRun(kind, argv, listSteps());
if ("error" in run) {
  console.error(run.error);
  process.exit(2);
}
// A Redis step's client is redis-cli itself (args go to it: -p 6380 ...).
// The chat clients' --host and --port mean what redis-cli calls -h and -p,
// so `npm run client -- 24 --port 6390` works as `npm start -- 24 --port
// 6390` does.
if (kind === "client" && run.step.track === "redis") {
  const args: string[] = [];
  for (let i = 0; i < run.args.length; i++) {
    const m = /^--(host|port)(?:=(.*))?$/.exec(run.args[i]!);
    if (m === null) {
      args.push(run.args[i]!);
      continue;
    }
    const value = m[2] ?? run.args[++i];
    if (value === undefined) {
      console.error(`--${m[1]} needs a value: npm run client -- ${run.step.num} --${m[1]} VALUE`);
      process.exit(2);
    }
    args.push(m[1] === "host" ? "-h" : "-p", value);
  }
  const cli = spawnSync("redis-cli", args, { stdio: "inherit" });
  if (cli.error !== undefined) {
    console.error(
      "redis-cli is not installed: apt-get install redis-tools (or brew install redis)",
    );
    process.exit(1);
  }
  process.exit(cli.status ?? 1);
}
process.argv = [process.argv[0]!, run.file, ...run.args];
await import(pathToFileURL(run.file).href);
