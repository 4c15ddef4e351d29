// The per-conversation floor of decided sequences that acks clamp against without a read.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SequenceFloor } from "../services/messaging/sequence-floor.ts";

test("the floor is the highest sequence raised, per conversation, and never goes back", () => {
  const floor = new SequenceFloor();
  assert.equal(floor.of("c1"), undefined);
  floor.raise("c1", 5n);
  floor.raise("c1", 3n);
  floor.raise("c2", 2n);
  assert.equal(floor.of("c1"), 5n, "a late answer of an earlier send does not lower it");
  floor.raise("c1", 6n);
  assert.deepEqual([floor.of("c1"), floor.of("c2")], [6n, 2n]);
});

test("a bounded floor forgets the least recently used conversation, which then reads as unknown", () => {
  const floor = new SequenceFloor(2);
  floor.raise("c1", 1n);
  floor.raise("c2", 1n);
  floor.raise("c3", 1n);
  assert.equal(floor.of("c1"), undefined);
  assert.deepEqual([floor.of("c2"), floor.of("c3")], [1n, 1n]);
});
