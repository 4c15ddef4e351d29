// Encodes server frames for the socket. An event fanned out to many devices is one object offered
// to every session, so its bytes are encoded once and each device's frame only adds its own
// delivery id around them (ConnectResponse.event = 3 { delivery_id = 1, event = 2 }).
import { toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { type ConversationEvent, ConversationEventSchema } from "../../../gen/parley/v1/events_pb.js";
import { type ConnectResponse, ConnectResponseSchema } from "../../../gen/parley/v1/session_pb.js";

const encodedEvents = new WeakMap<ConversationEvent, Uint8Array>();

export function encodeResponse(response: ConnectResponse): Uint8Array {
  const frame = response.frame;
  if (frame.case !== "event" || !frame.value.event || response.$unknown || frame.value.$unknown) {
    return toBinary(ConnectResponseSchema, response);
  }
  const event = frame.value.event;
  let eventBytes = encodedEvents.get(event);
  if (!eventBytes) {
    eventBytes = toBinary(ConversationEventSchema, event);
    encodedEvents.set(event, eventBytes);
  }
  const writer = new BinaryWriter();
  writer.tag(3, WireType.LengthDelimited).fork();
  if (frame.value.deliveryId !== 0n) writer.tag(1, WireType.Varint).uint64(frame.value.deliveryId);
  writer.tag(2, WireType.LengthDelimited).bytes(eventBytes);
  writer.join();
  return writer.finish();
}
