// An event stored by the embedded store is encoded before its sequence is known; the sequence is
// appended to the bytes afterwards. Those bytes must decode to the event with that sequence, for
// every size of sequence a uint64 can hold.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ConversationEventSchema } from "../gen/parley/v1/events_pb.js";
import { withSequence } from "../services/shared/event-bytes.ts";

test("an event's bytes with its sequence appended decode to the event with that sequence", () => {
  const event = create(ConversationEventSchema, {
    conversationId: "0190a1b2-0000-7000-8000-000000000001",
    eventId: "e",
    senderUserId: "u",
    body: { case: "message", value: { clientMessageId: "c", content: { kind: { case: "text", value: { body: "héllo" } } } } },
  });
  const unsequenced = toBinary(ConversationEventSchema, event);
  const sequences = [1n, 127n, 128n, 16_383n, 16_384n, 2n ** 40n, BigInt(Number.MAX_SAFE_INTEGER), 2n ** 53n, 2n ** 64n - 1n];
  for (const sequence of sequences) {
    const bytes = withSequence(unsequenced, sequence);
    assert.deepEqual(fromBinary(ConversationEventSchema, bytes), { ...event, sequence }, `sequence ${sequence}`);
    // Nothing but the field: the original bytes, then tag and varint.
    assert.deepEqual(bytes.subarray(0, unsequenced.byteLength), unsequenced);
    const field = toBinary(ConversationEventSchema, create(ConversationEventSchema, { sequence }));
    assert.deepEqual(bytes.subarray(unsequenced.byteLength), field, `field bytes of ${sequence}`);
  }
});
