// Message bodies on the wire: protobuf binary for the protobuf payloads (compact, and readable by
// any language from proto/), JSON for DeviceControl, which has no protobuf message.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { IHeaders } from "kafkajs";
import { ConversationEventSchema, ReceiptUpdateSchema } from "../../../../gen/parley/v1/events_pb.js";
import type { DeviceControl, MessageHeaders, Topic, TopicPayloads } from "../../ports.ts";

export function encode<T extends Topic>(topic: T, value: TopicPayloads[T]): Buffer {
  switch (topic) {
    case "conversation-events":
      return Buffer.from(toBinary(ConversationEventSchema, value as TopicPayloads["conversation-events"]));
    case "receipts":
      return Buffer.from(toBinary(ReceiptUpdateSchema, value as TopicPayloads["receipts"]));
    default:
      return Buffer.from(JSON.stringify(value));
  }
}

export function decode<T extends Topic>(topic: T, bytes: Buffer): TopicPayloads[T] {
  switch (topic) {
    case "conversation-events":
      return fromBinary(ConversationEventSchema, bytes) as TopicPayloads[T];
    case "receipts":
      return fromBinary(ReceiptUpdateSchema, bytes) as TopicPayloads[T];
    default:
      return parseDeviceControl(bytes) as TopicPayloads[T];
  }
}

/**
 * JSON from the wire is checked, so a foreign message fails here rather than in a handler. Fields
 * beyond the required ones pass through, so a field added to DeviceControl needs no change here.
 */
function parseDeviceControl(bytes: Buffer): DeviceControl {
  const parsed: unknown = JSON.parse(bytes.toString("utf8"));
  const candidate = parsed as Partial<DeviceControl> | null;
  if (typeof candidate?.deviceId !== "string" || typeof candidate.userId !== "string" || candidate.reason !== "revoked")
    throw new Error("not a DeviceControl message");
  return candidate as DeviceControl;
}

/** Kafka headers are bytes and may repeat; Parley's are single strings (the first one wins). */
export function headersFromKafka(raw: IHeaders | undefined): MessageHeaders {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}
