// Receipt watermarks: delivered (any device of the member has it) and read, per member.
import { create } from "@bufbuild/protobuf";
import { ReceiptUpdateSchema } from "../../gen/parley/v1/events_pb.js";
import type { EventBus } from "../bus/ports.ts";
import type { Caller } from "../shared/auth.ts";
import { requireId } from "../shared/validate.ts";
import { type Access, visibleUpTo } from "./access.ts";
import type { ConversationStore, ReceiptStore } from "./ports.ts";

export interface ReceiptDeps {
  access: Access;
  store: ConversationStore;
  receipts: ReceiptStore;
  bus: EventBus;
}

export function createReceipts(deps: ReceiptDeps) {
  /** Clamps the claim to what exists and what the member may see, then raises the watermark. */
  async function advance(caller: Caller, conversationIdRaw: string, through: bigint, kind: "delivered" | "read") {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    // One read serves both checks: every ack of every member lands here.
    const seat = await deps.store.seat(conversationId, caller.userId);
    // A device acks the GroupDeleted event it was sent; that is not an error worth a frame.
    if (kind === "delivered" && seat && seat.group.deletedAt !== null) return { changed: false, ...seat.member };
    // Anything else but a readable seat is refused by the reader check, exactly as before.
    const { member } = seat && seat.group.deletedAt === null ? seat : await deps.access.reader(conversationId, caller.userId);
    // The seat may carry the last sequence already (SQLite); otherwise it is one more read.
    const lastSequence = seat?.lastSequence ?? (await deps.store.get(conversationId))?.lastSequence ?? 0n;
    const ceiling = visibleUpTo(member, lastSequence);
    const clamped = through > ceiling ? ceiling : through;
    const result =
      kind === "read"
        ? await deps.receipts.advanceRead(conversationId, caller.userId, clamped)
        : await deps.receipts.advanceDelivered(conversationId, caller.userId, caller.deviceId, clamped);
    if (result.changed) {
      await deps.bus.publish(
        "receipts",
        conversationId,
        create(ReceiptUpdateSchema, {
          conversationId,
          userId: caller.userId,
          deliveredThrough: result.deliveredThrough,
          readThrough: result.readThrough,
        }),
      );
    }
    return result;
  }

  return {
    markRead: (caller: Caller, conversationId: string, through: bigint) => advance(caller, conversationId, through, "read"),
    markDelivered: (caller: Caller, conversationId: string, through: bigint) =>
      advance(caller, conversationId, through, "delivered"),
  };
}

export type Receipts = ReturnType<typeof createReceipts>;
