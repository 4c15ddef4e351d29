// The bare relay's only state: who is in each conversation and which streams each user has open.
// A send gets a SendResult and is forwarded to every stream of every member: no storage, no
// window, no receipts, no checks. It is the ceiling the transport allows on this machine.
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { type ConversationEvent, ConversationEventSchema } from "../../gen/parley/v1/events_pb.js";
import type { SendMessageRequest } from "../../gen/parley/v1/messaging_pb.js";
import type { SendResult } from "../../gen/parley/v1/session_pb.js";
import { SendResultSchema } from "../../gen/parley/v1/session_pb.js";

export interface RelayStream {
  userId: string;
  deviceId: string;
  deliver(event: ConversationEvent): void;
}

export class Hub {
  readonly #members = new Map<string, string[]>();
  readonly #sequences = new Map<string, bigint>();
  readonly #streams = new Map<string, Set<RelayStream>>();
  #eventIds = 0;

  setMembers(conversationId: string, userIds: string[]): void {
    this.#members.set(conversationId, userIds);
  }

  add(stream: RelayStream): void {
    const set = this.#streams.get(stream.userId) ?? new Set();
    set.add(stream);
    this.#streams.set(stream.userId, set);
  }

  remove(stream: RelayStream): void {
    this.#streams.get(stream.userId)?.delete(stream);
  }

  send(from: RelayStream, request: SendMessageRequest): SendResult {
    const sequence = (this.#sequences.get(request.conversationId) ?? 0n) + 1n;
    this.#sequences.set(request.conversationId, sequence);
    const sentAt = timestampNow();
    const event = create(ConversationEventSchema, {
      conversationId: request.conversationId,
      sequence,
      eventId: `e${++this.#eventIds}`,
      senderUserId: from.userId,
      senderDeviceId: from.deviceId,
      sentAt,
      body: { case: "message", value: { clientMessageId: request.clientMessageId, content: request.content } },
    });
    for (const userId of this.#members.get(request.conversationId) ?? []) {
      for (const stream of this.#streams.get(userId) ?? []) stream.deliver(event);
    }
    return create(SendResultSchema, {
      clientMessageId: request.clientMessageId,
      outcome: { case: "sent", value: { messageId: event.eventId, sequence, sentAt } },
    });
  }
}

/** Relay tokens are "relay.<user>.<device>": the relay trusts them, it has no identity logic. */
export function identityOf(token: string): { userId: string; deviceId: string } | undefined {
  const [kind, userId, deviceId] = token.split(".");
  return kind === "relay" && userId && deviceId ? { userId, deviceId } : undefined;
}
