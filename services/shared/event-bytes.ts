// Protobuf bytes encoded once per message object. An appended conversation event is written by
// the embedded store and framed for every recipient's device; a receipt update is framed for
// every member's devices. Neither is changed once published, so the bytes stay right for the
// object's life.
import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { ConversationEventSchema } from "../../gen/parley/v1/events_pb.js";
import { varintSize, writeVarint } from "./varint.ts";

export type EncodedOnce<Desc extends DescMessage> = ((message: MessageShape<Desc>) => Uint8Array) & {
  /** Records bytes already made for a message elsewhere (they must decode to it). */
  remember(message: MessageShape<Desc>, bytes: Uint8Array): void;
};

/** An encoder that remembers each object's bytes (objects must not change after encoding). */
export function encodedOnce<Desc extends DescMessage>(schema: Desc): EncodedOnce<Desc> {
  const encoded = new WeakMap<MessageShape<Desc>, Uint8Array>();
  const encode = (message: MessageShape<Desc>) => {
    let bytes = encoded.get(message);
    if (!bytes) {
      bytes = toBinary(schema, message);
      encoded.set(message, bytes);
    }
    return bytes;
  };
  return Object.assign(encode, {
    remember: (message: MessageShape<Desc>, bytes: Uint8Array) => void encoded.set(message, bytes),
  });
}

export const eventBytes = encodedOnce(ConversationEventSchema);

/** The sequence field's tag, and the largest sequence written without protobuf-es. */
const sequenceTag = new BinaryWriter().tag(ConversationEventSchema.field.sequence.number, WireType.Varint).finish();
const largestHandEncodedSequence = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * An event's bytes with its sequence added after the rest: the store allocates the sequence
 * after the event was encoded, in another thread. A protobuf field may come in any order, so these
 * decode to the event with that sequence.
 */
export function withSequence(unsequenced: Uint8Array, sequence: bigint): Uint8Array {
  if (sequence > largestHandEncodedSequence) {
    const field = new BinaryWriter()
      .tag(ConversationEventSchema.field.sequence.number, WireType.Varint)
      .uint64(sequence)
      .finish();
    const bytes = new Uint8Array(unsequenced.byteLength + field.byteLength);
    bytes.set(unsequenced);
    bytes.set(field, unsequenced.byteLength);
    return bytes;
  }
  const value = Number(sequence);
  const bytes = new Uint8Array(unsequenced.byteLength + sequenceTag.byteLength + varintSize(value));
  bytes.set(unsequenced);
  bytes.set(sequenceTag, unsequenced.byteLength);
  writeVarint(bytes, unsequenced.byteLength + sequenceTag.byteLength, value);
  return bytes;
}
