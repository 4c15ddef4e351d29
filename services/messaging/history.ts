// Reading the ordered log: history pages and sync from cursors. Each conversation costs one index
// seek; nothing here grows with the length of history.
import { create } from "@bufbuild/protobuf";
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";
import { CursorSchema } from "../../gen/parley/v1/events_pb.js";
import type { ListMessagesRequest, SyncRequest, SyncResponse } from "../../gen/parley/v1/messaging_pb.js";
import { SyncResponseSchema } from "../../gen/parley/v1/messaging_pb.js";
import type { Caller } from "../shared/auth.ts";
import { pageSize, requireId } from "../shared/validate.ts";
import { type Access, visibleUpTo } from "./access.ts";
import type { ConversationStore, EventLog, ReceiptStore } from "./ports.ts";

export interface HistoryDeps {
  access: Access;
  store: ConversationStore;
  log: EventLog;
  receipts: ReceiptStore;
}

const noLimit = BigInt(Number.MAX_SAFE_INTEGER);

export function createHistory(deps: HistoryDeps) {
  async function listMessages(caller: Caller, req: ListMessagesRequest) {
    const conversationId = requireId(req.conversationId, "conversation_id");
    const { member } = await deps.access.reader(conversationId, caller.userId);
    const limit = pageSize(req.pageSize, 100, 500);
    const ceiling = (member.leftAtSeq ?? noLimit) + 1n;
    const before = req.beforeSequence === 0n || req.beforeSequence > ceiling ? ceiling : req.beforeSequence;
    // One extra row tells whether an older page exists; events before what the member may see stay
    // hidden (their join, unless the group showed its history to new members when they joined).
    const rows = (await deps.log.readBefore(conversationId, before, limit + 1)).filter(
      (e) => e.sequence >= member.visibleFromSeq,
    );
    const hasMore = rows.length > limit;
    return { events: hasMore ? rows.slice(1) : rows, hasMore };
  }

  /**
   * Everything after the cursors, conversation by conversation, at most page_size events.
   * Cursors not given come from the device's stored cursors (advanced by acks).
   */
  async function sync(caller: Caller, req: SyncRequest): Promise<SyncResponse> {
    const given = new Map(req.cursors.map((c, i) => [requireId(c.conversationId, `cursors[${i}].conversation_id`), c.sequence]));
    const stored = await deps.receipts.deviceCursors(caller.deviceId);
    const memberships = (await deps.store.membershipsOf(caller.userId))
      .filter((m) => !req.listedOnly || given.has(m.conversationId))
      .sort((a, b) => (a.conversationId < b.conversationId ? -1 : 1));
    let budget = pageSize(req.pageSize, 500, 1000);
    const events: ConversationEvent[] = [];
    const cursors = [];
    let caughtUp = true;
    for (const member of memberships) {
      const cursor = given.get(member.conversationId) ?? stored.get(member.conversationId) ?? 0n;
      const floor = member.visibleFromSeq - 1n;
      const from = cursor > floor ? cursor : floor;
      let next = from;
      if (budget > 0) {
        const page = await deps.log.readAfter(member.conversationId, from, visibleUpTo(member, noLimit), budget);
        events.push(...page);
        budget -= page.length;
        next = page.at(-1)?.sequence ?? from;
        if (budget === 0) caughtUp = false;
      } else {
        caughtUp = false;
      }
      cursors.push(create(CursorSchema, { conversationId: member.conversationId, sequence: next > cursor ? next : cursor }));
    }
    return create(SyncResponseSchema, { events, cursors, caughtUp });
  }

  return { listMessages, sync };
}

export type History = ReturnType<typeof createHistory>;
