// Every change of a group's membership, roles, bans, settings or existence goes through here:
// read the roster (members and group state at one membership version), let the use case plan the
// change against it (permissions, targets, limits), then append the event with that version as a
// compare-and-set. The store decides it only if nothing changed in between. A caller who named
// the version they expect gets the conflict back (ABORTED / MEMBERSHIP_VERSION_CONFLICT); one who
// did not is re-planned against the new roster a few times.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type ConversationEvent, ConversationEventSchema } from "../../gen/parley/v1/events_pb.js";
import type { EventBus } from "../bus/ports.ts";
import type { Caller } from "../shared/auth.ts";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import { conversationNotFound } from "../shared/errors.ts";
import { isMembershipVersionConflict, membershipVersionConflict, notAGroup } from "./group-errors.ts";
import { isCurrent } from "./group-rules.ts";
import {
  bumpsVersion,
  type ConversationRecord,
  type ConversationStore,
  type EventLog,
  type GroupChange,
  type MemberRecord,
  type MembershipChange,
  type Roster,
} from "./ports.ts";

export type EventBody = MessageInitShape<typeof ConversationEventSchema>["body"];

export interface PlanContext {
  conversation: ConversationRecord;
  roster: Roster;
  /** The caller's current membership (undefined for a joiner who is not a member yet). */
  self: MemberRecord | undefined;
  /** The membership version after a change that bumps it (events record it). */
  next: bigint;
}

export interface Planned {
  body: EventBody;
  membership?: MembershipChange;
  group?: GroupChange;
}

export interface ChangeResult {
  /** Sequence of the recorded event; 0 when the plan found nothing to change. */
  sequence: bigint;
  membershipVersion: bigint;
  event?: ConversationEvent;
}

export interface MembershipDeps {
  store: ConversationStore;
  log: EventLog;
  bus: EventBus;
  clock: Clock;
  ids: IdGenerator;
}

/** Re-plans after a lost compare-and-set when the caller named no version; each loss means another change won. */
const maxAttempts = 10;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createMembershipChanges(deps: MembershipDeps) {
  const draft = (caller: Caller, body: EventBody) =>
    create(ConversationEventSchema, {
      eventId: deps.ids.next(),
      senderUserId: caller.userId,
      senderDeviceId: caller.deviceId,
      sentAt: timestampFromMs(deps.clock.now()),
      body,
    });

  /**
   * Plans and records one change by `caller` (who must be a current member unless `joining`).
   * `plan` throws to refuse and returns undefined when there is nothing to change.
   */
  async function change(
    caller: Caller,
    conversationId: string,
    expected: bigint | undefined,
    plan: (context: PlanContext) => Planned | undefined,
    options: { joining?: boolean } = {},
  ): Promise<ChangeResult> {
    for (let attempt = 1; ; attempt++) {
      const [conversation, roster] = await Promise.all([deps.store.get(conversationId), deps.store.roster(conversationId)]);
      if (!conversation || !roster || roster.deletedAt !== null) throw conversationNotFound();
      const self = roster.members.find((m) => m.userId === caller.userId && isCurrent(m));
      if (!self && !options.joining) throw conversationNotFound();
      if (conversation.kind !== "group") throw notAGroup();
      if (expected !== undefined && expected !== roster.membershipVersion) throw membershipVersionConflict();
      const planned = plan({ conversation, roster, self, next: roster.membershipVersion + 1n });
      if (!planned) return { sequence: 0n, membershipVersion: roster.membershipVersion };
      try {
        const appended = await deps.log.append({
          conversationId,
          event: draft(caller, planned.body),
          membership: planned.membership,
          group: planned.group,
          expectedMembershipVersion: roster.membershipVersion,
        });
        await deps.bus.publish("conversation-events", conversationId, appended.event);
        // The compare-and-set held, so the version moved from the roster's by at most this change.
        const membershipVersion = bumpsVersion(planned) ? roster.membershipVersion + 1n : roster.membershipVersion;
        return { sequence: appended.event.sequence, membershipVersion, event: appended.event };
      } catch (error) {
        if (!isMembershipVersionConflict(error) || expected !== undefined || attempt >= maxAttempts) throw error;
        await sleep(Math.random() * 5 * attempt);
      }
    }
  }

  return { change, draft };
}

export type MembershipChanges = ReturnType<typeof createMembershipChanges>;
