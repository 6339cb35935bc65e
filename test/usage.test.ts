// usage.test.ts -- every program's command line: --help, a bad option, and the Redis steps' client.
//
// `--help` prints the usage on stdout and exits 0; an option a program does
// not know prints what is wrong and the usage on stderr and exits 2, with
// no stack trace. For every step's server and client, and for the scripts
// around them.

import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { nodeArgs } from "./src/compiled.ts";
import { testSteps } from "./src/corpus.ts";
import { startServer } from "./src/harness.ts";
import { listSteps, ROOT } from "./src/steps.ts";

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Run a .ts entry point to the end, as the harness starts it: a step's
// program compiled once (compiled.ts), the project's scripts through tsx.
function runTs(file: string, args: string[], timeoutMs = 20000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, nodeArgs(file, args), { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d));
    proc.stderr.on("data", (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${file} ${args.join(" ")}: still running after ${timeoutMs} ms`));
    }, timeoutMs);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const STACK = /^\s+at /m;
const steps = listSteps();

// Every server and client, grouped by step (testSteps: every step, or only
// the one `npm test -- --step NN` names).
for (const step of testSteps()) {
  const programs = [
    { name: "server", file: step.server },
    ...(step.client === null ? [] : [{ name: "client", file: step.client }]),
  ];
  describe(step.name, () => {
    it.each(programs)("$name: --help prints the usage and exits 0", async ({ file }) => {
      const run = await runTs(file, ["--help"]);
      expect(run).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout).toMatch(/^usage: (server|client)\.ts .*--port PORT/);
    });

    it.each(programs)(
      "$name: a bad option prints the usage to stderr, exits 2",
      async ({ file }) => {
        const run = await runTs(file, ["--bogus"]);
        expect(run).toMatchObject({ code: 2, stdout: "" });
        expect(run.stderr).toMatch(/^Unknown option '--bogus'\nusage: (server|client)\.ts /);
        expect(run.stderr).not.toMatch(STACK);
      },
    );
  });
}

// The scripts belong to no step: the full run checks them, a one-step run does not.
if (!process.env.STEP)
  describe("the scripts", () => {
    const bench = `${ROOT}test/bench/resp.ts`;

    it("npm run bench:resp: --help, a bad option, a step that is not a Redis step", async () => {
      const help = await runTs(bench, ["--help"]);
      expect(help).toMatchObject({ code: 0, stderr: "" });
      expect(help.stdout).toMatch(/^usage: npm run bench:resp -- \[--step 17\]/);
      for (const args of [["--bogus"], ["--step", "01"], ["--clients", "ten"]]) {
        const bad = await runTs(bench, args);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/\nusage: npm run bench:resp -- /);
        expect(bad.stderr).not.toMatch(STACK);
      }
    });

    it("npm run client -- NN --port P: a Redis step's redis-cli gets -h and -p", async () => {
      const step = steps.findLast((s) => s.track === "redis")!;
      const server = await startServer(step.server);
      try {
        const run = `${ROOT}test/bin/run.ts`;
        const ping = await runTs(run, [
          "client",
          String(step.num),
          "--port",
          String(server.port),
          "PING",
        ]);
        expect(ping).toMatchObject({ code: 0, stdout: "PONG\n" });
        const echo = await runTs(run, [
          "client",
          step.name,
          "--host=127.0.0.1",
          `--port=${server.port}`,
          "ECHO",
          "hi",
        ]);
        expect(echo).toMatchObject({ code: 0, stdout: "hi\n" });
        const missing = await runTs(run, ["client", String(step.num), "--port"]);
        expect(missing.code).toBe(2);
        expect(missing.stderr).toContain(`npm run client -- ${step.num} --port VALUE`);
      } finally {
        await server.stop();
      }
    });
  });
