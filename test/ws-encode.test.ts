// The WebSocket encoder writes an event's bytes once per fanout and wraps them per device; the
// result must be byte-for-byte what protobuf-es writes for the whole frame.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { ConversationEventSchema } from "../gen/parley/v1/events_pb.js";
import { ConnectResponseSchema } from "../gen/parley/v1/session_pb.js";
import { encodeResponse } from "../services/gateway/websocket/encode.ts";

test("event frames for several devices share the event bytes and equal the generic encoding", () => {
  const event = create(ConversationEventSchema, {
    conversationId: "0190a1b2-0000-7000-8000-000000000001",
    sequence: 300n,
    eventId: "e",
    senderUserId: "u",
    body: { case: "message", value: { clientMessageId: "c", content: { kind: { case: "text", value: { body: "héllo" } } } } },
  });
  for (const deliveryId of [1n, 127n, 128n, 2n ** 40n]) {
    const frame = create(ConnectResponseSchema, { frame: { case: "event", value: { deliveryId, event } } });
    assert.deepEqual(encodeResponse(frame), toBinary(ConnectResponseSchema, frame), `delivery ${deliveryId}`);
  }
  const heartbeat = create(ConnectResponseSchema, { frame: { case: "heartbeat", value: { nonce: 7n } } });
  assert.deepEqual(encodeResponse(heartbeat), toBinary(ConnectResponseSchema, heartbeat));
});
