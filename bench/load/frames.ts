// Device-stream frames as the load generator speaks them: the client frames it writes and a
// dispatcher over the server frames it reads (ConnectRequest / ConnectResponse of
// proto/parley/v1/session.proto). Rare frames are encoded and decoded with the generated schemas;
// events, receipts and acks take the hand-written fast path of wire-format.ts.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { StreamError } from "../../gen/parley/v1/errors_pb.js";
import { ConnectRequestSchema, ConnectResponseSchema } from "../../gen/parley/v1/session_pb.js";
import { parseStamp, type Stamp } from "./stamp.ts";
import { lenTag, Reader, varintSize, varintTag, writeVarint } from "./wire-format.ts";

/** Hello; `fromStart` names conversations the device holds nothing of (cursor 0). */
export function helloFrame(options: { window: number; accessToken?: string; fromStart?: string[] }): Uint8Array {
  const cursors = (options.fromStart ?? []).map((conversationId) => ({ conversationId, sequence: 0n }));
  return toBinary(
    ConnectRequestSchema,
    create(ConnectRequestSchema, {
      frame: { case: "hello", value: { window: options.window, accessToken: options.accessToken ?? "", cursors } },
    }),
  );
}

export function sendFrame(conversationId: string, clientMessageId: string, body: string): Uint8Array {
  return toBinary(
    ConnectRequestSchema,
    create(ConnectRequestSchema, {
      frame: { case: "send", value: { conversationId, clientMessageId, content: { kind: { case: "text", value: { body } } } } },
    }),
  );
}

/** ConnectRequest{ack: Ack{through_delivery_id}} (fields 3 and 1). */
export function ackFrame(throughDeliveryId: number): Uint8Array {
  const inner = 1 + varintSize(throughDeliveryId);
  const out = new Uint8Array(2 + inner);
  out[0] = lenTag(3);
  out[1] = inner;
  out[2] = varintTag(1);
  writeVarint(out, 3, throughDeliveryId);
  return out;
}

/** ConnectRequest{heartbeat: Heartbeat{nonce, echo}} (fields 5, 1 and 2). */
export function heartbeatFrame(nonce: number, echo: boolean): Uint8Array {
  const inner = 1 + varintSize(nonce) + (echo ? 2 : 0);
  const out = new Uint8Array(2 + inner);
  out[0] = lenTag(5);
  out[1] = inner;
  out[2] = varintTag(1);
  let pos = writeVarint(out, 3, nonce);
  if (echo) {
    out[pos++] = varintTag(2);
    out[pos] = 1;
  }
  return out;
}

/** What a device does with each server frame. */
export interface FrameHandler {
  onReady(): void;
  /** stamp is set when the event is a bench message (see stamp.ts). */
  onEvent(deliveryId: number, conversationId: string, sequence: number, stamp: Stamp | undefined): void;
  onReceipt(): void;
  onSendResult(errorReason: string | undefined): void;
  onCaughtUp(replayed: number): void;
  onHeartbeat(nonce: number, echo: boolean): void;
  onGoAway(reason: number): void;
  onStreamError(reason: string): void;
}

/** Decodes one ConnectResponse and calls the handler; unknown frame kinds are ignored. */
export function dispatchServerFrame(bytes: Uint8Array, handler: FrameHandler): void {
  const top = new Reader(bytes);
  while (!top.done) {
    const tag = top.varint();
    const field = tag >>> 3;
    if ((tag & 7) !== 2) {
      top.skip(tag & 7);
      continue;
    }
    const inner = top.sub();
    switch (field) {
      case 3:
        readEventDelivery(inner, handler);
        break;
      case 4:
        handler.onReceipt();
        break;
      case 6:
        readHeartbeat(inner, handler);
        break;
      case 1:
      case 2:
      case 5:
      case 7:
      case 8:
        readRare(bytes, handler);
        break;
      // Frame kinds added later (presence, typing...) are not the bench's business.
    }
  }
}

function readEventDelivery(r: Reader, handler: FrameHandler): void {
  let deliveryId = 0;
  let event: EventFields | undefined;
  while (!r.done) {
    const tag = r.varint();
    if (tag === varintTag(1)) deliveryId = r.varint();
    else if (tag === lenTag(2)) event = readEvent(r.sub());
    else r.skip(tag & 7);
  }
  handler.onEvent(deliveryId, event?.conversationId ?? "", event?.sequence ?? 0, event?.stamp);
}

interface EventFields {
  conversationId: string;
  sequence: number;
  stamp: Stamp | undefined;
}

const utf8 = new TextDecoder();

/** ConversationEvent: conversation_id(1), sequence(2), message(10) → content(2) → text(1) → body(1). */
function readEvent(r: Reader): EventFields {
  const fields: EventFields = { conversationId: "", sequence: 0, stamp: undefined };
  while (!r.done) {
    const tag = r.varint();
    if (tag === lenTag(1)) {
      const id = r.sub();
      fields.conversationId = utf8.decode(id.buf.subarray(id.pos, id.end));
    } else if (tag === varintTag(2)) fields.sequence = r.varint();
    else if (tag === lenTag(10)) fields.stamp = readStamp(r.sub());
    else r.skip(tag & 7);
  }
  return fields;
}

/** Message.content(2) → MessageContent.text(1) → TextContent.body(1), then the stamp in the body. */
function readStamp(message: Reader): Stamp | undefined {
  let r = message;
  for (const field of [2, 1, 1]) {
    let found: Reader | undefined;
    while (!r.done) {
      const tag = r.varint();
      if (tag === lenTag(field)) {
        found = r.sub();
        break;
      }
      r.skip(tag & 7);
    }
    if (!found) return undefined;
    r = found;
  }
  return parseStamp(r.buf, r.pos, r.end);
}

function readHeartbeat(r: Reader, handler: FrameHandler): void {
  let nonce = 0;
  let echo = false;
  while (!r.done) {
    const tag = r.varint();
    if (tag === varintTag(1)) nonce = r.varint();
    else if (tag === varintTag(2)) echo = r.varint() !== 0;
    else r.skip(tag & 7);
  }
  handler.onHeartbeat(nonce, echo);
}

function readRare(bytes: Uint8Array, handler: FrameHandler): void {
  const frame = fromBinary(ConnectResponseSchema, bytes).frame;
  switch (frame.case) {
    case "ready":
      handler.onReady();
      break;
    case "sendResult":
      handler.onSendResult(frame.value.outcome.case === "error" ? reasonOf(frame.value.outcome.value) : undefined);
      break;
    case "caughtUp":
      handler.onCaughtUp(frame.value.replayed);
      break;
    case "goAway":
      handler.onGoAway(frame.value.reason);
      break;
    case "error":
      handler.onStreamError(reasonOf(frame.value));
      break;
  }
}

const reasonOf = (error: StreamError) => error.detail?.reason || `CODE_${error.code}`;
