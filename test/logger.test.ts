// The structured logger: one JSON line per entry, a level filter, and children that add fields
// while sharing their parent's level and sink.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../services/shared/logger.ts";

test("children add their fields, keep the parent's level and sink, and serialize bigints and errors", () => {
  const lines: string[] = [];
  const root = createLogger({ level: "info", sink: (line) => lines.push(line), base: { service: "gateway" } });
  const session = root.child({ sessionId: "s1" }).child({ deviceId: "d1" });
  session.debug("not at info level");
  session.info("stream opened", { sequence: 7n });
  session.error("failed", { error: new Error("boom") });
  root.warn("plain");
  assert.equal(lines.length, 3, "the debug line is filtered by the inherited level");
  const [opened, failed, plain] = lines.map((line) => JSON.parse(line));
  assert.equal(opened.msg, "stream opened");
  assert.equal(opened.level, "info");
  assert.equal(opened.service, "gateway");
  assert.equal(opened.sessionId, "s1");
  assert.equal(opened.deviceId, "d1");
  assert.equal(opened.sequence, "7");
  assert.equal(failed.error.message, "boom");
  assert.equal(plain.sessionId, undefined, "a child's fields never reach its parent");
  assert.ok(!Number.isNaN(Date.parse(opened.time)));
});
