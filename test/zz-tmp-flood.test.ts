import { readFileSync } from "node:fs";
import { it } from "vitest";
import { startServer } from "./src/harness.ts";
import { listSteps } from "./src/steps.ts";
const cpu = (pid: number) => { const s = readFileSync(`/proc/${pid}/stat`, "utf8"); const f = s.slice(s.lastIndexOf(")") + 2).split(" "); return (Number(f[11]) + Number(f[12])) * 10; };
it("start", async () => {
  for (const n of [1, 5, 9, 13, 21]) {
    const step = listSteps().find((s) => s.num === n)!;
    const r = [];
    for (let k = 0; k < 5; k++) {
      const server = await startServer(step.server);
      r.push(cpu(server.proc.pid!));
      await server.stop();
    }
    console.log(`${step.name}: server CPU at listening ${r.join(" ")} ms`);
  }
}, 120000);
