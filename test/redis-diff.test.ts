// redis-diff.test.ts -- every Redis step against a real redis-server, byte
// for byte (test/src/redis-diff-suite.ts): here steps 10 to 19, from RESP to
// blocking pops. redis-diff-20.test.ts and redis-diff-24.test.ts take the
// later ones, so that the three run side by side.

import { diffSteps } from "./src/redis-diff-suite.ts";

await diffSteps(10, 19);
