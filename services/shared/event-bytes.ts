// A conversation event's protobuf bytes, encoded once per event object: the embedded store writes
// them when the event is appended, and the gateways frame the same bytes for every recipient's
// device. Events are never changed once appended, so the bytes stay right for the object's life.
import { toBinary } from "@bufbuild/protobuf";
import { type ConversationEvent, ConversationEventSchema } from "../../gen/parley/v1/events_pb.js";

const encoded = new WeakMap<ConversationEvent, Uint8Array>();

export function eventBytes(event: ConversationEvent): Uint8Array {
  let bytes = encoded.get(event);
  if (!bytes) {
    bytes = toBinary(ConversationEventSchema, event);
    encoded.set(event, bytes);
  }
  return bytes;
}
