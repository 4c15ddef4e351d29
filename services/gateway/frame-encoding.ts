// Encodes server frames for the wire. An event fanned out to many devices is one object offered
// to every session, so its bytes are encoded once and each device's frame only adds its own
// delivery id around them (ConnectResponse.event = 3 { delivery_id = 1, event = 2 }), written by
// hand into one buffer. A receipt update goes to every member's devices the same way: encoded once,
// framed per device (ConnectResponse.receipt = 4). A gRPC message gets its 5-byte prefix in the
// same buffer, and a turn's frames for one stream share one buffer, with no copy.
import { toBinary } from "@bufbuild/protobuf";
import { ReceiptUpdateSchema } from "../../gen/parley/v1/events_pb.js";
import { type ConnectResponse, ConnectResponseSchema } from "../../gen/parley/v1/session_pb.js";
import { encodedOnce, eventBytes } from "../shared/event-bytes.ts";
import { varintSize, writeVarint } from "../shared/varint.ts";
import { sendResultFrameSize, writeSendResultFrame } from "./send-result-encoding.ts";

const grpcPrefixBytes = 5;
const receiptBytes = encodedOnce(ReceiptUpdateSchema);
/** Delivery ids above this take the generic encoder (the hand-written varint works on numbers). */
const largestHandEncodedId = BigInt(Number.MAX_SAFE_INTEGER);

/** One frame's protobuf bytes (a WebSocket message). */
export function encodeResponse(response: ConnectResponse): Uint8Array {
  const size = handEncodedSize(response);
  if (size < 0) return toBinary(ConnectResponseSchema, response);
  const out = frameBuffer(size);
  writeHandEncoded(out, 0, response);
  return out;
}

/** One frame as an uncompressed gRPC message: flag byte, big-endian length, protobuf bytes. */
export function encodeGrpcMessage(response: ConnectResponse): Uint8Array {
  return encodeGrpcMessages([response]);
}

/**
 * Frames as back-to-back gRPC messages in one buffer, for one write: each frame is written
 * straight into its place, with no buffer of its own and no copy to join them.
 */
export function encodeGrpcMessages(responses: readonly ConnectResponse[]): Uint8Array {
  // Frames the hand encoder does not cover are encoded first, to learn their size.
  let generic: (Uint8Array | undefined)[] | undefined;
  let total = 0;
  for (let i = 0; i < responses.length; i++) {
    const response = responses[i] as ConnectResponse;
    let size = handEncodedSize(response);
    if (size < 0) {
      generic ??= [];
      const bytes = toBinary(ConnectResponseSchema, response);
      generic[i] = bytes;
      size = bytes.byteLength;
    }
    total += grpcPrefixBytes + size;
  }
  const out = frameBuffer(total);
  let at = 0;
  for (let i = 0; i < responses.length; i++) {
    const start = at;
    at += grpcPrefixBytes;
    const bytes = generic?.[i];
    if (bytes) {
      out.set(bytes, at);
      at += bytes.byteLength;
    } else {
      at = writeHandEncoded(out, at, responses[i] as ConnectResponse);
    }
    writeGrpcPrefix(out, start, at - start - grpcPrefixBytes);
  }
  return out;
}

/** Flag byte 0 (not compressed; the buffer is not zeroed) and the big-endian length. */
function writeGrpcPrefix(out: Uint8Array, at: number, length: number): void {
  out[at] = 0;
  out[at + 1] = length >>> 24;
  out[at + 2] = (length >>> 16) & 0xff;
  out[at + 3] = (length >>> 8) & 0xff;
  out[at + 4] = length & 0xff;
}

/** The size of a frame the hand encoder writes, or -1 for one it leaves to protobuf-es. */
function handEncodedSize(response: ConnectResponse): number {
  const frame = response.frame;
  if (response.$unknown) return -1;
  if (frame.case === "receipt") return fieldSize(receiptBytes(frame.value).byteLength);
  if (frame.case === "sendResult") return sendResultFrameSize(frame.value);
  if (frame.case !== "event" || !frame.value.event || frame.value.$unknown || frame.value.deliveryId > largestHandEncodedId) {
    return -1;
  }
  return fieldSize(deliveryInnerSize(Number(frame.value.deliveryId), eventBytes(frame.value.event).byteLength));
}

/**
 * Writes a frame `handEncodedSize` accepted at `at`; returns where it ends. An event is
 * ConnectResponse.event = 3 { delivery_id = 1, event = 2 } around the event's shared bytes, a
 * receipt ConnectResponse.receipt = 4 around the update's, a send result as send-result-encoding.ts
 * writes it.
 */
function writeHandEncoded(out: Uint8Array, at: number, response: ConnectResponse): number {
  const frame = response.frame;
  if (frame.case === "receipt") return writeBytesField(out, at, (4 << 3) | 2, receiptBytes(frame.value));
  if (frame.case === "sendResult") return writeSendResultFrame(out, at, frame.value);
  if (frame.case !== "event" || !frame.value.event) throw new Error("not a hand-encoded frame");
  const encodedEvent = eventBytes(frame.value.event);
  const deliveryId = Number(frame.value.deliveryId);
  let i = at;
  out[i++] = (3 << 3) | 2; // ConnectResponse.event, length-delimited
  i = writeVarint(out, i, deliveryInnerSize(deliveryId, encodedEvent.byteLength));
  if (deliveryId !== 0) {
    out[i++] = 1 << 3; // EventDelivery.delivery_id, varint
    i = writeVarint(out, i, deliveryId);
  }
  return writeBytesField(out, i, (2 << 3) | 2, encodedEvent); // EventDelivery.event
}

/** EventDelivery's size: delivery_id (omitted when 0) and the event field. */
function deliveryInnerSize(deliveryId: number, eventLength: number): number {
  return (deliveryId === 0 ? 0 : 1 + varintSize(deliveryId)) + fieldSize(eventLength);
}

/** A length-delimited field with a one-byte tag: tag, length, bytes. */
function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

function writeBytesField(out: Uint8Array, at: number, tag: number, bytes: Uint8Array): number {
  out[at] = tag;
  const i = writeVarint(out, at + 1, bytes.byteLength);
  out.set(bytes, i);
  return i + bytes.byteLength;
}

/**
 * Room for one frame, every byte of which the caller writes. Small frames come from Node's shared
 * buffer pool: a fresh ArrayBuffer per copy of a fanned-out event cost about ten times as much to
 * make, and as many more objects for the garbage collector to track.
 */
function frameBuffer(size: number): Uint8Array {
  const pooled = Buffer.allocUnsafe(size);
  return new Uint8Array(pooled.buffer, pooled.byteOffset, size);
}
