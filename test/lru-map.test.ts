// The bounded maps behind Parley's caches: at most `capacity` entries, the least recently used
// dropped first, and an entry never dropped sooner than capacity / 2 placements after its use.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LruMap } from "../services/shared/lru-map.ts";

test("holds at most capacity entries and drops the oldest first", () => {
  const map = new LruMap<string, number>(3);
  for (const [i, key] of ["a", "b", "c", "d"].entries()) map.set(key, i);
  assert.equal(map.size, 3);
  assert.equal(map.get("a"), undefined);
  assert.deepEqual(
    ["b", "c", "d"].map((k) => map.get(k)),
    [1, 2, 3],
  );
  map.set("b", 10);
  assert.equal(map.get("b"), 10, "set replaces");
  map.delete("c");
  assert.equal(map.get("c"), undefined);
  assert.equal(map.size, 2);
});

test("an entry in use survives while newer ones come and go", () => {
  const capacity = 100;
  const map = new LruMap<number, number>(capacity);
  map.set(-1, -1);
  for (let i = 0; i < 10 * capacity; i++) {
    map.set(i, i);
    // Used every few insertions: never dropped, though most inserts do not move it.
    if (i % 10 === 0) assert.equal(map.get(-1), -1, `still held after ${i} insertions`);
  }
  assert.equal(map.size, capacity);
  assert.equal(map.get(0), undefined, "an entry never used again is dropped");
});

test("an entry used once is kept for at least half the capacity of later insertions", () => {
  const capacity = 100;
  const map = new LruMap<number, number>(capacity);
  for (let i = 0; i < capacity; i++) map.set(i, i);
  map.get(0); // the oldest, used now
  for (let i = capacity; i < capacity + capacity / 2; i++) map.set(i, i);
  assert.equal(map.get(0), 0);
});
