// Small builders shared by the end-to-end tests.
import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { DeviceStream } from "../../clients/node/device-stream.ts";
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";
import type { SendMessageRequestSchema } from "../../gen/parley/v1/messaging_pb.js";

export type SendInit = Omit<MessageInitShape<typeof SendMessageRequestSchema>, "$typeName">;

export function textMessage(conversationId: string, body: string, clientMessageId: string = randomUUID()): SendInit {
  return { conversationId, clientMessageId, content: { kind: { case: "text", value: { body } } } };
}

/** Sends a text message on a device stream and returns its sequence (throws if it was refused). */
export async function sentSequence(stream: DeviceStream, conversationId: string, body: string): Promise<bigint> {
  const result = await stream.send(textMessage(conversationId, body));
  if (result.outcome.case !== "sent") throw new Error(`send failed: ${JSON.stringify(result.outcome)}`);
  return result.outcome.value.sequence;
}

/** The text of a message event (empty for other kinds). */
export function textOf(event: ConversationEvent): string {
  return event.body.case === "message" && event.body.value.content?.kind.case === "text"
    ? event.body.value.content.kind.value.body
    : "";
}

/** The sequences a device holds for one conversation, in arrival order. */
export function sequencesIn(events: ConversationEvent[], conversationId: string): bigint[] {
  return events.filter((e) => e.conversationId === conversationId).map((e) => e.sequence);
}

export function range(from: bigint, to: bigint): bigint[] {
  const out: bigint[] = [];
  for (let s = from; s <= to; s++) out.push(s);
  return out;
}
