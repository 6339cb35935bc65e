// steps.ts -- the list of step folders, as every cross-step tool sees it.
//
// Steps are found on disk, not listed by hand: a new folder "NN-slug" under
// steps/ joins the matrix, the consistency check, `npm start` and the
// benchmark by existing.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const STEPS_DIR = `${ROOT}steps/`;

export interface Step {
  /** 1 for "01-naive-fanout". */
  num: number;
  /** "01-naive-fanout". */
  name: string;
  /** Absolute folder path, with a trailing slash. */
  dir: string;
  server: string;
  /** The terminal client, from step 04 on. */
  client: string | null;
  /** package.json's "lesson": the files this step changes. */
  changes: string[];
  /** "chat" (steps 01-09: a chat server) or "redis" (10 on: a Redis server). */
  track: "chat" | "redis";
}

export function listSteps(): Step[] {
  return readdirSync(STEPS_DIR)
    .filter((name) => /^\d\d-/.test(name) && existsSync(`${STEPS_DIR}${name}/package.json`))
    .sort()
    .map((name) => {
      const dir = `${STEPS_DIR}${name}/`;
      const pkg = JSON.parse(readFileSync(`${dir}package.json`, "utf8"));
      const client = `${dir}src/client.ts`;
      return {
        num: Number(name.slice(0, 2)),
        name,
        dir,
        server: `${dir}src/server.ts`,
        client: existsSync(client) ? client : null,
        changes: pkg.lesson?.changes ?? [],
        track: pkg.lesson?.track === "redis" ? "redis" : "chat",
      };
    });
}

// Find a step by "02", "2" or "02-buffered-io"; undefined if there is none.
export function findStep(steps: Step[], key: string): Step | undefined {
  return steps.find((s) => s.name === key || s.num === Number(key));
}

// What `npm start -- [step] [args]` and `npm run client -- [step] [args]`
// run. A first argument shaped like a step ("05", "5", "05-poll-loop", or a
// typo of one such as "99" or "02-bufered-io") must name a step: it is never
// taken for a host name. Without one, the newest step of the chat track
// (steps whose package.json says no other "lesson.track") that has what is
// asked for.
export function resolveRun(
  kind: "server" | "client",
  argv: string[],
  steps: Step[],
): { step: Step; file: string; args: string[] } | { error: string } {
  const [first, ...rest] = argv;
  let step: Step | undefined;
  let args = argv;
  if (first !== undefined && /^(\d{1,2}|\d\d-.*)$/.test(first)) {
    step = findStep(steps, first);
    if (step === undefined) {
      return {
        error: `no such step: ${first}\nthe steps are: ${steps.map((s) => s.name).join(" ")}`,
      };
    }
    args = rest;
  } else {
    const chat = steps.filter((s) => s.track === "chat");
    step = kind === "client" ? chat.findLast((s) => s.client !== null) : chat.at(-1);
    if (step === undefined) return { error: `no chat step has a ${kind}` };
  }
  // A Redis step's client is redis-cli itself: run.ts starts it.
  if (kind === "client" && step.track === "redis") return { step, file: "redis-cli", args };
  if (kind === "client" && step.client === null) {
    const firstClient = steps.find((s) => s.client !== null);
    return {
      error:
        `step ${step.name} has no client` +
        (firstClient
          ? `; the first client is in step ${firstClient.name}, and it talks to every step's server`
          : ""),
    };
  }
  return { step, file: kind === "client" ? step.client! : step.server, args };
}
