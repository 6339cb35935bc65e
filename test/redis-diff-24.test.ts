// redis-diff-24.test.ts -- the differential test (test/src/redis-diff-suite.ts)
// for step 24 and every later step: transactions, persistence, speed.

import { diffSteps } from "./src/redis-diff-suite.ts";

await diffSteps(24);
