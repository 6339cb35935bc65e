// redis-diff-20.test.ts -- the differential test (test/src/redis-diff-suite.ts)
// for steps 20 to 23: streams, XREAD, consumer groups, claiming.

import { diffSteps } from "./src/redis-diff-suite.ts";

await diffSteps(20, 23);
