// Event, message and device ids: UUIDv7 whose string order follows the clock.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createUuidV7Generator } from "../services/shared/clock.ts";

const layout = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("ids carry the version, the variant and the clock's milliseconds", () => {
  const ms = 0x0123_4567_89ab; // uses all 48 bits' high part
  const id = createUuidV7Generator({ now: () => ms }).next();
  assert.match(id, layout);
  assert.equal(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), ms);
});

test("ids stay unique and well-formed across many draws from the entropy pool", () => {
  const ids = createUuidV7Generator({ now: () => 1_700_000_000_000 });
  const seen = new Set<string>();
  for (let i = 0; i < 5_000; i++) {
    const id = ids.next();
    assert.match(id, layout);
    seen.add(id);
  }
  assert.equal(seen.size, 5_000);
});

test("string order follows the clock", () => {
  let now = 1_700_000_000_000;
  const ids = createUuidV7Generator({ now: () => now });
  const made: string[] = [];
  for (let i = 0; i < 300; i++) {
    now += 1 + (i % 3);
    made.push(ids.next());
  }
  assert.deepEqual([...made].sort(), made);
});
