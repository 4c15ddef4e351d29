// Sending a message: the one core that the unary RPC and the session stream both call.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type ConversationEvent, ConversationEventSchema, type MessageContent } from "../../gen/parley/v1/events_pb.js";
import type { SendMessageRequest, SendMessageResponse } from "../../gen/parley/v1/messaging_pb.js";
import { SendMessageResponseSchema } from "../../gen/parley/v1/messaging_pb.js";
import type { EventBus } from "../bus/ports.ts";
import type { Caller } from "../shared/auth.ts";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import { invalidArgument } from "../shared/errors.ts";
import { LruMap } from "../shared/lru-map.ts";
import { traceHeaders, withSpan } from "../shared/tracing.ts";
import { requireClientId, requireId } from "../shared/validate.ts";
import type { Access } from "./access.ts";
import { announcementOnly, isMembershipVersionConflict } from "./group-errors.ts";
import { permits } from "./group-rules.ts";
import type { MessagingLimits } from "./limits.ts";
import type { EventLog, Seat } from "./ports.ts";
import type { SequenceFloor } from "./sequence-floor.ts";

export interface SendDeps {
  access: Access;
  log: EventLog;
  bus: EventBus;
  clock: Clock;
  ids: IdGenerator;
  limits: MessagingLimits;
  /** Raised with every sequence a send is answered with. */
  floor: SequenceFloor;
  /** Told how long after acceptance a send's event was appended, then published (metrics). */
  onHop?: (hop: "appended" | "published", ageMs: number) => void;
}

const utf8 = new TextEncoder();

function validateContent(content: MessageContent | undefined, limits: MessagingLimits): MessageContent {
  if (!content || content.kind.case === undefined) throw invalidArgument("content", "EMPTY", "content is required");
  const body = content.kind.value.body;
  const bytes = utf8.encode(body).length;
  if (body.trim().length === 0) throw invalidArgument("content.text.body", "EMPTY", "message text must not be empty");
  if (bytes > limits.maxMessageBytes) {
    throw invalidArgument(
      "content.text.body",
      "CONTENT_TOO_LARGE",
      `message text is ${bytes} bytes; the limit is ${limits.maxMessageBytes}`,
    );
  }
  return content;
}

/** Sends lost to a concurrent membership change are re-authorized this many times. */
const maxAttempts = 20;

/** Sender seats remembered for the next send (per messaging process). */
const seatCacheSize = 10_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createSend(deps: SendDeps) {
  /**
   * Seats that allowed a send, by conversation and sender. Using one again is safe because every
   * change that could forbid a send (removal, ban, role, settings, deletion) raises the membership
   * version, and the append checks the version atomically: a stale seat loses the compare-and-set
   * and the send is authorized afresh. Only seats that allowed a send are kept.
   */
  const seats = new LruMap<string, Seat>(seatCacheSize);

  async function writerSeat(conversationId: string, userId: string, fresh: boolean): Promise<Seat> {
    const key = `${conversationId} ${userId}`;
    const known = fresh ? undefined : seats.get(key);
    if (known) return known;
    seats.delete(key);
    const seat = await deps.access.writer(conversationId, userId);
    if (!permits(seat.group.settings.sendMessages, seat.member.role)) throw announcementOnly();
    seats.set(key, seat);
    return seat;
  }

  /**
   * Authorizes the sender (a current member whose role the group's send setting allows) and appends
   * at the membership version that authorization read: a removal, demotion or switch to
   * announcement-only decided in between makes the append lose its compare-and-set, and the send is
   * authorized again. So no message is ordered after the change that forbade it.
   */
  async function appendAsMember(caller: Caller, conversationId: string, draft: ConversationEvent, clientMessageId: string) {
    let fresh = false;
    for (let attempt = 1; ; attempt++) {
      const { group } = await writerSeat(conversationId, caller.userId, fresh);
      try {
        const appended = await deps.log.append({
          conversationId,
          event: draft,
          clientMessageId,
          expectedMembershipVersion: group.membershipVersion,
        });
        // A retry is answered before the version is checked: the sender must still be allowed now.
        if (appended.duplicate && !fresh) await writerSeat(conversationId, caller.userId, true);
        return appended;
      } catch (error) {
        if (!isMembershipVersionConflict(error) || attempt >= maxAttempts) throw error;
        fresh = true;
        await sleep(Math.random() * 2 * attempt);
      }
    }
  }

  return async function send(caller: Caller, req: SendMessageRequest): Promise<SendMessageResponse> {
    const conversationId = requireId(req.conversationId, "conversation_id");
    const clientMessageId = requireClientId(req.clientMessageId, "client_message_id");
    const content = validateContent(req.content, deps.limits);
    const acceptedMs = deps.clock.now();
    const draft = create(ConversationEventSchema, {
      eventId: deps.ids.next(),
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      sentAt: timestampFromMs(acceptedMs),
      body: { case: "message", value: { clientMessageId, content } },
    });
    const { event, duplicate } = await withSpan("event-log append", () =>
      appendAsMember(caller, conversationId, draft, clientMessageId),
    );
    deps.floor.raise(conversationId, event.sequence);
    deps.onHop?.("appended", deps.clock.now() - acceptedMs);
    // Published on retries too: if an earlier attempt stored the event but died before publishing,
    // the retry completes the fanout. Devices drop the duplicate by (conversation, sequence).
    await withSpan("conversation-events publish", async (span) => {
      span.setAttribute("parley.sequence", event.sequence.toString());
      await deps.bus.publish("conversation-events", conversationId, event, traceHeaders());
    });
    deps.onHop?.("published", deps.clock.now() - acceptedMs);
    return create(SendMessageResponseSchema, {
      messageId: event.eventId,
      sequence: event.sequence,
      sentAt: event.sentAt,
      duplicate,
    });
  };
}

export type Send = ReturnType<typeof createSend>;
