// Protobuf bytes encoded once per message object. An appended conversation event is written by
// the embedded store and framed for every recipient's device; a receipt update is framed for
// every member's devices. Neither is changed once published, so the bytes stay right for the
// object's life.
import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { ConversationEventSchema } from "../../gen/parley/v1/events_pb.js";

/** An encoder that remembers each object's bytes (objects must not change after encoding). */
export function encodedOnce<Desc extends DescMessage>(schema: Desc): (message: MessageShape<Desc>) => Uint8Array {
  const encoded = new WeakMap<MessageShape<Desc>, Uint8Array>();
  return (message) => {
    let bytes = encoded.get(message);
    if (!bytes) {
      bytes = toBinary(schema, message);
      encoded.set(message, bytes);
    }
    return bytes;
  };
}

export const eventBytes = encodedOnce(ConversationEventSchema);
