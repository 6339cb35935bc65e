// count.mjs -- sum every package's vitest JSON report into the one closing
// line CI reads: "N passed, N failed". Exit 1 when anything failed, or when
// no test ran at all (a green run that tested nothing is not green).
import { existsSync, readdirSync, readFileSync } from "node:fs";

const reports = ["test", ...readdirSync("steps").map((s) => `steps/${s}`)]
  .map((dir) => `${dir}/.vitest-report.json`)
  .filter((file) => existsSync(file));

let passed = 0;
let failed = 0;
for (const file of reports) {
  const r = JSON.parse(readFileSync(file, "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.success ? 0 : r.numFailedTestSuites);
}
console.log(`${reports.length} reports`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
