// Encodes server frames for the wire. An event fanned out to many devices is one object offered
// to every session, so its bytes are encoded once and each device's frame only adds its own
// delivery id around them (ConnectResponse.event = 3 { delivery_id = 1, event = 2 }), written by
// hand into one buffer. A receipt update goes to every member's devices the same way: encoded once,
// framed per device (ConnectResponse.receipt = 4). A gRPC message gets its 5-byte prefix in the
// same buffer, with no copy.
import { toBinary } from "@bufbuild/protobuf";
import { type ReceiptUpdate, ReceiptUpdateSchema } from "../../gen/parley/v1/events_pb.js";
import { type ConnectResponse, ConnectResponseSchema } from "../../gen/parley/v1/session_pb.js";
import { encodedOnce, eventBytes } from "../shared/event-bytes.ts";

const grpcPrefixBytes = 5;
const receiptBytes = encodedOnce(ReceiptUpdateSchema);
/** Delivery ids above this take the generic encoder (the hand-written varint works on numbers). */
const largestHandEncodedId = BigInt(Number.MAX_SAFE_INTEGER);

/** One frame's protobuf bytes (a WebSocket message). */
export function encodeResponse(response: ConnectResponse): Uint8Array {
  return encodeAfter(response, 0);
}

/** One frame as an uncompressed gRPC message: flag byte, big-endian length, protobuf bytes. */
export function encodeGrpcMessage(response: ConnectResponse): Uint8Array {
  const message = encodeAfter(response, grpcPrefixBytes);
  message[0] = 0; // not compressed (the buffer is not zeroed)
  new DataView(message.buffer, message.byteOffset, grpcPrefixBytes).setUint32(1, message.byteLength - grpcPrefixBytes);
  return message;
}

/** The frame's bytes after `offset` bytes left for the caller to fill. */
function encodeAfter(response: ConnectResponse, offset: number): Uint8Array {
  const frame = response.frame;
  if (frame.case === "receipt" && !response.$unknown) return receiptAfter(frame.value, offset);
  if (
    frame.case !== "event" ||
    !frame.value.event ||
    response.$unknown ||
    frame.value.$unknown ||
    frame.value.deliveryId > largestHandEncodedId
  ) {
    const bytes = toBinary(ConnectResponseSchema, response);
    if (offset === 0) return bytes;
    const out = frameBuffer(offset + bytes.byteLength);
    out.set(bytes, offset);
    return out;
  }
  const encodedEvent = eventBytes(frame.value.event);
  const deliveryId = Number(frame.value.deliveryId);
  const inner =
    (deliveryId === 0 ? 0 : 1 + varintSize(deliveryId)) + 1 + varintSize(encodedEvent.byteLength) + encodedEvent.byteLength;
  const out = frameBuffer(offset + 1 + varintSize(inner) + inner);
  let at = offset;
  out[at++] = (3 << 3) | 2; // ConnectResponse.event, length-delimited
  at = writeVarint(out, at, inner);
  if (deliveryId !== 0) {
    out[at++] = 1 << 3; // EventDelivery.delivery_id, varint
    at = writeVarint(out, at, deliveryId);
  }
  out[at++] = (2 << 3) | 2; // EventDelivery.event, length-delimited
  at = writeVarint(out, at, encodedEvent.byteLength);
  out.set(encodedEvent, at);
  return out;
}

/** ConnectResponse.receipt = 4 around the update's shared bytes. */
function receiptAfter(receipt: ReceiptUpdate, offset: number): Uint8Array {
  const bytes = receiptBytes(receipt);
  const out = frameBuffer(offset + 1 + varintSize(bytes.byteLength) + bytes.byteLength);
  out[offset] = (4 << 3) | 2; // ConnectResponse.receipt, length-delimited
  out.set(bytes, writeVarint(out, offset + 1, bytes.byteLength));
  return out;
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

function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v >= 128; v = Math.floor(v / 128)) size++;
  return size;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  let v = value;
  let i = at;
  while (v >= 128) {
    out[i++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[i++] = v;
  return i;
}
