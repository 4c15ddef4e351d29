// The device-stream transports take frames from the outbox (Outbox.attach): what a turn of the
// event loop queued is written at its end, together (one transport write where the transport can),
// in order, never past a full transport until it drains, coalescing receipts while it is full, and
// ending only after the last frame.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, isMessage } from "@bufbuild/protobuf";
import { ConversationEventSchema, ReceiptUpdateSchema } from "../gen/parley/v1/events_pb.js";
import { type ConnectResponse, ConnectResponseSchema } from "../gen/parley/v1/session_pb.js";
import { type FrameSink, Outbox } from "../services/gateway/outbox.ts";

/**
 * A sink that records what it was given and reports full once it holds `room` frames; with
 * `batches`, it also takes several frames at once and records each such write.
 */
function recordingSink(room = Number.POSITIVE_INFINITY, options: { batches?: boolean } = {}) {
  const written: ConnectResponse[] = [];
  const writes: number[] = [];
  let ends = 0;
  const sink: FrameSink & { room: number } = {
    room,
    write(frame) {
      written.push(frame);
      writes.push(1);
      return written.length < sink.room;
    },
    end() {
      ends++;
    },
  };
  if (options.batches) {
    sink.writeAll = (frames) => {
      written.push(...frames);
      writes.push(frames.length);
      return written.length < sink.room;
    };
  }
  return { sink, written, writes, ends: () => ends };
}

/** The end of the current turn of the event loop, when queued outboxes are written. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

const heartbeat = (nonce: number) => ({ case: "heartbeat" as const, value: { nonce: BigInt(nonce) } });
const nonces = (frames: ConnectResponse[]) =>
  frames.map((f) => (f.frame.case === "heartbeat" ? Number(f.frame.value.nonce) : f.frame.case));

test("frames queued before attaching are written on attach; later ones at the end of the turn, in order", async () => {
  const outbox = new Outbox();
  const { sink, written } = recordingSink();
  outbox.push(heartbeat(1));
  outbox.push(heartbeat(2));
  assert.equal(written.length, 0, "nothing is written before a sink is attached");
  outbox.attach(sink);
  assert.deepEqual(nonces(written), [1, 2]);
  outbox.push(heartbeat(3));
  outbox.push(heartbeat(4));
  assert.deepEqual(nonces(written), [1, 2], "frames queued during a turn wait for its end");
  await turn();
  assert.deepEqual(nonces(written), [1, 2, 3, 4]);
  assert.equal(outbox.size, 0);
});

test("a turn's frames go to the transport in one write when it takes several", async () => {
  const outbox = new Outbox();
  const { sink, written, writes } = recordingSink(Number.POSITIVE_INFINITY, { batches: true });
  outbox.attach(sink);
  for (let nonce = 1; nonce <= 5; nonce++) outbox.push(heartbeat(nonce));
  await turn();
  outbox.push(heartbeat(6));
  await turn();
  assert.deepEqual(nonces(written), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(writes, [5, 1], "five frames of one turn in one write; a lone frame alone");
});

test("a transport full after a batched write gets nothing more until resume", async () => {
  const outbox = new Outbox();
  const { sink, written, writes } = recordingSink(2, { batches: true });
  outbox.attach(sink);
  for (let nonce = 1; nonce <= 3; nonce++) outbox.push(heartbeat(nonce));
  await turn();
  assert.deepEqual(writes, [3], "the turn's frames went in one write, which left the transport full");
  outbox.push(heartbeat(4));
  await turn();
  assert.deepEqual(nonces(written), [1, 2, 3], "nothing more while full");
  sink.room = Number.POSITIVE_INFINITY;
  outbox.resume();
  assert.deepEqual(nonces(written), [1, 2, 3, 4]);
});

test("a full sink gets nothing more until resume, and receipts coalesce meanwhile", async () => {
  const outbox = new Outbox();
  const { sink, written } = recordingSink(1);
  outbox.attach(sink);
  outbox.push(heartbeat(1));
  outbox.push(heartbeat(2));
  const receipt = (delivered: bigint, read: bigint) =>
    create(ReceiptUpdateSchema, { conversationId: "c", userId: "u", deliveredThrough: delivered, readThrough: read });
  outbox.pushReceipt(receipt(5n, 1n));
  outbox.pushReceipt(receipt(4n, 3n));
  await turn();
  assert.deepEqual(nonces(written), [1], "the sink said it was full after the first frame");
  assert.equal(outbox.size, 1);

  sink.room = Number.POSITIVE_INFINITY;
  outbox.resume();
  assert.deepEqual(nonces(written), [1, 2, "receipt"]);
  const merged = written[2]?.frame;
  assert.equal(merged?.case, "receipt");
  if (merged?.case === "receipt") {
    assert.equal(merged.value.deliveredThrough, 5n, "the higher delivered watermark is kept");
    assert.equal(merged.value.readThrough, 3n, "the higher read watermark is kept");
  }
});

test("the sink ends once, after the frames queued before the close were written", async () => {
  const outbox = new Outbox();
  const { sink, written, ends } = recordingSink(1);
  outbox.attach(sink);
  outbox.push(heartbeat(1));
  outbox.push(heartbeat(2));
  outbox.close();
  outbox.push(heartbeat(3));
  await turn();
  assert.equal(ends(), 0, "a frame still waits for the full sink");

  sink.room = Number.POSITIVE_INFINITY;
  outbox.resume();
  assert.deepEqual(nonces(written), [1, 2], "nothing queued after the close goes out");
  assert.equal(ends(), 1);
  outbox.resume();
  outbox.close();
  assert.equal(ends(), 1, "the end is reported once");
});

test("a sink attached to an outbox already closed and empty ends at once", () => {
  const outbox = new Outbox();
  outbox.close();
  const { sink, ends } = recordingSink();
  outbox.attach(sink);
  assert.equal(ends(), 1);
});

test("an event delivery is the very message protobuf-es creates for it", async () => {
  const outbox = new Outbox();
  const { sink, written } = recordingSink();
  outbox.attach(sink);
  const event = create(ConversationEventSchema, { conversationId: "c", sequence: 5n, eventId: "e" });
  outbox.pushEvent(7n, event);
  await turn();
  assert.deepEqual(written[0], create(ConnectResponseSchema, { frame: { case: "event", value: { deliveryId: 7n, event } } }));
  assert.ok(isMessage(written[0], ConnectResponseSchema));
});
