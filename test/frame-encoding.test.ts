// The frame encoder writes an event's bytes once per fanout and wraps them per device; the result
// must be byte-for-byte what protobuf-es writes for the whole frame, and a gRPC message is those
// bytes after the 5-byte prefix.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ConversationEventSchema, ReceiptUpdateSchema } from "../gen/parley/v1/events_pb.js";
import { type ConnectResponse, ConnectResponseSchema } from "../gen/parley/v1/session_pb.js";
import { encodeGrpcMessage, encodeGrpcMessages, encodeResponse } from "../services/gateway/frame-encoding.ts";
import { Outbox } from "../services/gateway/outbox.ts";

test("event frames for several devices share the event bytes and equal the generic encoding", () => {
  const event = create(ConversationEventSchema, {
    conversationId: "0190a1b2-0000-7000-8000-000000000001",
    sequence: 300n,
    eventId: "e",
    senderUserId: "u",
    body: { case: "message", value: { clientMessageId: "c", content: { kind: { case: "text", value: { body: "héllo" } } } } },
  });
  for (const deliveryId of [0n, 1n, 127n, 128n, 16_383n, 16_384n, 2n ** 40n, 2n ** 60n]) {
    const frame = create(ConnectResponseSchema, { frame: { case: "event", value: { deliveryId, event } } });
    const generic = toBinary(ConnectResponseSchema, frame);
    assert.deepEqual(encodeResponse(frame), generic, `delivery ${deliveryId}`);
    assert.deepEqual(encodeGrpcMessage(frame), grpcMessage(generic), `gRPC, delivery ${deliveryId}`);
  }
  const heartbeat = create(ConnectResponseSchema, { frame: { case: "heartbeat", value: { nonce: 7n } } });
  assert.deepEqual(encodeResponse(heartbeat), toBinary(ConnectResponseSchema, heartbeat));
  assert.deepEqual(encodeGrpcMessage(heartbeat), grpcMessage(toBinary(ConnectResponseSchema, heartbeat)));
});

test("an event larger than 127 bytes gets multi-byte lengths and still matches", () => {
  const event = create(ConversationEventSchema, {
    conversationId: "0190a1b2-0000-7000-8000-000000000002",
    sequence: 1n,
    body: { case: "message", value: { content: { kind: { case: "text", value: { body: "x".repeat(20_000) } } } } },
  });
  const frame = create(ConnectResponseSchema, { frame: { case: "event", value: { deliveryId: 9n, event } } });
  assert.deepEqual(encodeResponse(frame), toBinary(ConnectResponseSchema, frame));
  assert.deepEqual(encodeGrpcMessage(frame), grpcMessage(toBinary(ConnectResponseSchema, frame)));
});

test("receipt frames share the update's bytes and equal the generic encoding", () => {
  const receipt = create(ReceiptUpdateSchema, {
    conversationId: "0190a1b2-0000-7000-8000-000000000003",
    userId: "0190a1b2-0000-7000-8000-000000000004",
    deliveredThrough: 2n ** 40n,
    readThrough: 129n,
  });
  for (let device = 0; device < 3; device++) {
    const frame = create(ConnectResponseSchema, { frame: { case: "receipt", value: receipt } });
    assert.deepEqual(encodeResponse(frame), toBinary(ConnectResponseSchema, frame));
    assert.deepEqual(encodeGrpcMessage(frame), grpcMessage(toBinary(ConnectResponseSchema, frame)));
  }
  const empty = create(ConnectResponseSchema, { frame: { case: "receipt", value: create(ReceiptUpdateSchema) } });
  assert.deepEqual(encodeResponse(empty), toBinary(ConnectResponseSchema, empty));
});

test("a turn's frames in one buffer are each frame's gRPC message, back to back", () => {
  const event = create(ConversationEventSchema, { conversationId: "c", sequence: 4n, senderUserId: "u", eventId: "e" });
  const big = create(ConversationEventSchema, {
    conversationId: "c",
    sequence: 5n,
    body: { case: "message", value: { content: { kind: { case: "text", value: { body: "y".repeat(70_000) } } } } },
  });
  const frames: ConnectResponse[] = [
    create(ConnectResponseSchema, { frame: { case: "event", value: { deliveryId: 1n, event } } }),
    create(ConnectResponseSchema, { frame: { case: "heartbeat", value: { nonce: 3n, echo: true } } }),
    create(ConnectResponseSchema, {
      frame: { case: "receipt", value: create(ReceiptUpdateSchema, { conversationId: "c", readThrough: 4n }) },
    }),
    create(ConnectResponseSchema, { frame: { case: "event", value: { deliveryId: 2n ** 60n, event } } }),
    create(ConnectResponseSchema, { frame: { case: "event", value: { deliveryId: 300n, event: big } } }),
  ];
  const expected = Buffer.concat(frames.map((frame) => grpcMessage(toBinary(ConnectResponseSchema, frame))));
  assert.deepEqual(Buffer.from(encodeGrpcMessages(frames)), expected);
  assert.deepEqual(
    Buffer.from(encodeGrpcMessages(frames.slice(1, 2))),
    Buffer.from(encodeGrpcMessage(frames[1] as ConnectResponse)),
  );
  assert.equal(encodeGrpcMessages([]).byteLength, 0);
});

test("send result frames equal the generic encoding, whatever their values", () => {
  const stamps = [
    undefined,
    { seconds: 0n, nanos: 0 },
    { seconds: 1_733_000_000n, nanos: 123_000_000 },
    { seconds: 5n, nanos: 0 },
  ];
  const sents = stamps.flatMap((sentAt) =>
    [0n, 1n, 300n, BigInt(Number.MAX_SAFE_INTEGER), 2n ** 60n].flatMap((sequence) =>
      [true, false].map((duplicate) => ({ messageId: "0190a1b2-0000-7000-8000-000000000005", sequence, sentAt, duplicate })),
    ),
  );
  const results = [
    ...sents.map((sent) => ({ clientMessageId: "c-1", outcome: { case: "sent" as const, value: sent } })),
    { clientMessageId: "", outcome: { case: "sent" as const, value: { messageId: "" } } },
    { clientMessageId: "x".repeat(300), outcome: { case: "sent" as const, value: { messageId: "m".repeat(128), sequence: 7n } } },
    { clientMessageId: "héllo", outcome: { case: "sent" as const, value: { messageId: "m", sequence: 7n } } },
    { clientMessageId: "c", outcome: { case: "sent" as const, value: { messageId: "ü", sequence: 7n } } },
    { clientMessageId: "c", outcome: { case: "sent" as const, value: { messageId: "m", sentAt: { seconds: -5n, nanos: 0 } } } },
    { clientMessageId: "c", outcome: { case: "error" as const, value: { code: 8, message: "slow down" } } },
    { clientMessageId: "c", outcome: { case: undefined } },
  ];
  for (const value of results) {
    const frame = create(ConnectResponseSchema, { frame: { case: "sendResult", value } });
    const generic = toBinary(ConnectResponseSchema, frame);
    assert.deepEqual(
      encodeResponse(frame),
      generic,
      JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}` : v)),
    );
    assert.deepEqual(
      Buffer.from(encodeGrpcMessages([frame, frame])),
      Buffer.concat([grpcMessage(generic), grpcMessage(generic)]),
    );
  }
  // Unknown fields are kept: the generic encoder writes them.
  const unknown = create(ConnectResponseSchema, {
    frame: { case: "sendResult", value: { clientMessageId: "c", outcome: { case: "sent", value: { messageId: "m" } } } },
  });
  if (unknown.frame.case === "sendResult") unknown.frame.value.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
  assert.deepEqual(encodeResponse(unknown), toBinary(ConnectResponseSchema, unknown));
});

/** What a gRPC peer expects: flag 0, big-endian length, the message. */
function grpcMessage(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + bytes.byteLength);
  new DataView(out.buffer).setUint32(1, bytes.byteLength);
  out.set(bytes, 5);
  return out;
}

test("a receipt coalesced in one outbox goes out merged, and the shared update others hold is untouched", async () => {
  const shared = create(ReceiptUpdateSchema, { conversationId: "c", userId: "u", deliveredThrough: 5n, readThrough: 9n });
  const [merging, other] = [new Outbox(), new Outbox()];
  merging.pushReceipt(create(ReceiptUpdateSchema, { conversationId: "c", userId: "u", deliveredThrough: 12n, readThrough: 1n }));
  other.pushReceipt(shared);
  const sent = async (outbox: Outbox) => {
    const frame = (await outbox.frames().next()).value;
    if (!frame) throw new Error("no frame");
    const decoded = fromBinary(ConnectResponseSchema, encodeResponse(frame));
    return decoded.frame.case === "receipt" ? [decoded.frame.value.deliveredThrough, decoded.frame.value.readThrough] : [];
  };
  // The other device's frame is encoded first: the update's bytes are now cached.
  assert.deepEqual(await sent(other), [5n, 9n]);
  merging.pushReceipt(shared);
  assert.deepEqual(await sent(merging), [12n, 9n], "the merged watermarks, not the cached bytes");
  assert.deepEqual([shared.deliveredThrough, shared.readThrough], [5n, 9n]);
});
