// The send result, written by hand: every message sent costs one, and protobuf-es's generic
// encoder allocated a writer and walked three schemas for it (about 3% of the 1:1 server's busy
// main thread in bench/). The common case is covered: a stored message, ASCII ids and no unknown
// fields. Anything else (an error outcome, non-ASCII text, huge numbers) is left to protobuf-es.
//
// ConnectResponse.send_result = 2 { client_message_id = 1, sent = 2 { message_id = 1,
// sequence = 2, sent_at = 3 { seconds = 1, nanos = 2 }, duplicate = 4 } }
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { SendMessageResponse } from "../../gen/parley/v1/messaging_pb.js";
import type { SendResult } from "../../gen/parley/v1/session_pb.js";
import { varintSize, writeVarint } from "../shared/varint.ts";

const largestHandEncoded = BigInt(Number.MAX_SAFE_INTEGER);

/** The whole frame's size (tag and length included), or -1 when protobuf-es must encode it. */
export function sendResultFrameSize(result: SendResult): number {
  const body = resultSize(result);
  return body < 0 ? -1 : 1 + varintSize(body) + body;
}

/** Writes a frame `sendResultFrameSize` accepted at `at`; returns where it ends. */
export function writeSendResultFrame(out: Uint8Array, at: number, result: SendResult): number {
  const sent = (result.outcome as { case: "sent"; value: SendMessageResponse }).value;
  let i = at;
  out[i++] = (2 << 3) | 2; // ConnectResponse.send_result
  i = writeVarint(out, i, resultSize(result));
  i = writeAscii(out, i, (1 << 3) | 2, result.clientMessageId);
  out[i++] = (2 << 3) | 2; // SendResult.sent
  i = writeVarint(out, i, sentSize(sent));
  i = writeAscii(out, i, (1 << 3) | 2, sent.messageId);
  if (sent.sequence !== 0n) {
    out[i++] = 2 << 3;
    i = writeVarint(out, i, Number(sent.sequence));
  }
  if (sent.sentAt) {
    out[i++] = (3 << 3) | 2;
    i = writeVarint(out, i, timestampSize(sent.sentAt));
    if (sent.sentAt.seconds !== 0n) {
      out[i++] = 1 << 3;
      i = writeVarint(out, i, Number(sent.sentAt.seconds));
    }
    if (sent.sentAt.nanos !== 0) {
      out[i++] = 2 << 3;
      i = writeVarint(out, i, sent.sentAt.nanos);
    }
  }
  if (sent.duplicate) {
    out[i++] = 4 << 3;
    out[i++] = 1;
  }
  return i;
}

function resultSize(result: SendResult): number {
  if (result.$unknown || result.outcome.case !== "sent") return -1;
  const id = asciiFieldSize(result.clientMessageId);
  const sent = sentSize(result.outcome.value);
  return id < 0 || sent < 0 ? -1 : id + 1 + varintSize(sent) + sent;
}

function sentSize(sent: SendMessageResponse): number {
  if (sent.$unknown || sent.sequence < 0n || sent.sequence > largestHandEncoded) return -1;
  const id = asciiFieldSize(sent.messageId);
  const at = sent.sentAt ? timestampSize(sent.sentAt) : 0;
  if (id < 0 || at < 0) return -1;
  const sequence = sent.sequence === 0n ? 0 : 1 + varintSize(Number(sent.sequence));
  return id + sequence + (sent.sentAt ? 1 + varintSize(at) + at : 0) + (sent.duplicate ? 2 : 0);
}

function timestampSize(at: Timestamp): number {
  // Negative values are ten-byte varints: rare enough to leave to protobuf-es.
  if (at.$unknown || at.seconds < 0n || at.seconds > largestHandEncoded || at.nanos < 0) return -1;
  return (at.seconds === 0n ? 0 : 1 + varintSize(Number(at.seconds))) + (at.nanos === 0 ? 0 : 1 + varintSize(at.nanos));
}

/** A string field's size when the string is ASCII (omitted when empty), or -1. */
function asciiFieldSize(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return -1;
  return text.length === 0 ? 0 : 1 + varintSize(text.length) + text.length;
}

function writeAscii(out: Uint8Array, at: number, tag: number, text: string): number {
  if (text.length === 0) return at;
  out[at] = tag;
  let i = writeVarint(out, at + 1, text.length);
  for (let c = 0; c < text.length; c++) out[i++] = text.charCodeAt(c);
  return i;
}
