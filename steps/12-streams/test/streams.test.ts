// streams.test.ts -- streams through real clients: placeholder, filled in below.
import { describe, it } from "vitest";

describe("streams", () => {
  it.todo("real clients");
});
