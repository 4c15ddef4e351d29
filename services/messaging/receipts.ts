// Receipt watermarks: delivered (any device of the member has it) and read, per member.
//
// Every member's device acks every message, so a group message comes back as one ack per member,
// mostly within a few turns of the event loop. Acks of one turn are settled together per
// conversation: one seats() read authorizes all of them, instead of one read per ack.
import { create } from "@bufbuild/protobuf";
import { ReceiptUpdateSchema } from "../../gen/parley/v1/events_pb.js";
import { type EventBus, receiptKindHeader } from "../bus/ports.ts";
import type { Caller } from "../shared/auth.ts";
import { minOf } from "../shared/bigints.ts";
import { requireId } from "../shared/validate.ts";
import { type Access, visibleUpTo } from "./access.ts";
import type { ConversationStore, ReceiptStore, Seat } from "./ports.ts";
import type { SequenceFloor } from "./sequence-floor.ts";

export interface ReceiptDeps {
  access: Access;
  store: ConversationStore;
  receipts: ReceiptStore;
  bus: EventBus;
  /** What this process knows the logs have reached: acks at or below it need no head read. */
  floor: SequenceFloor;
}

type Kind = "delivered" | "read";

interface Watermarks {
  changed: boolean;
  deliveredThrough: bigint;
  readThrough: bigint;
}

interface Claim {
  caller: Caller;
  through: bigint;
  kind: Kind;
  resolve: (result: Watermarks) => void;
  reject: (error: unknown) => void;
}

export function createReceipts(deps: ReceiptDeps) {
  /** Claims of the current turn, by conversation. */
  let pending = new Map<string, Claim[]>();

  function flush(): void {
    const batch = pending;
    pending = new Map();
    for (const [conversationId, claims] of batch) void settle(conversationId, claims);
  }

  async function settle(conversationId: string, claims: Claim[]): Promise<void> {
    let seats: Map<string, Seat>;
    const floor = deps.floor.of(conversationId);
    // Only a claim above the floor needs the real last sequence to clamp against.
    const known = floor !== undefined && claims.every((c) => c.through <= floor) ? { lastSequenceAtLeast: floor } : undefined;
    try {
      seats = await deps.store.seats(conversationId, [...new Set(claims.map((c) => c.caller.userId))], known);
    } catch (error) {
      for (const claim of claims) claim.reject(error);
      return;
    }
    for (const claim of claims) {
      advance(claim, conversationId, seats.get(claim.caller.userId)).then(claim.resolve, claim.reject);
    }
  }

  /** Clamps the claim to what exists and what the member may see, then raises the watermark. */
  async function advance(claim: Claim, conversationId: string, seat: Seat | undefined): Promise<Watermarks> {
    const { caller, through, kind } = claim;
    // A device acks the GroupDeleted event it was sent; that is not an error worth a frame.
    if (kind === "delivered" && seat && seat.group.deletedAt !== null) return { changed: false, ...seat.member };
    // Anything else but a readable seat is refused by the reader check (NOT_FOUND, existence hidden).
    const { member } = seat && seat.group.deletedAt === null ? seat : await deps.access.reader(conversationId, caller.userId);
    // seats() carries the last sequence; only the reader check's path reads it again.
    const lastSequence = seat?.lastSequence ?? (await deps.store.get(conversationId))?.lastSequence ?? 0n;
    const ceiling = visibleUpTo(member, lastSequence);
    const clamped = minOf(through, ceiling);
    // The seat's watermarks spare the store a second read of the same row.
    const seen = seat ? member : undefined;
    const result =
      kind === "read"
        ? await deps.receipts.advanceRead(conversationId, caller.userId, clamped, seen)
        : await deps.receipts.advanceDelivered(conversationId, caller.userId, caller.deviceId, clamped, seen);
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
        { [receiptKindHeader]: kind },
      );
    }
    return result;
  }

  async function claim(caller: Caller, conversationIdRaw: string, through: bigint, kind: Kind): Promise<Watermarks> {
    const conversationId = requireId(conversationIdRaw, "conversation_id");
    return await new Promise((resolve, reject) => {
      const claims = pending.get(conversationId);
      if (claims) claims.push({ caller, through, kind, resolve, reject });
      else pending.set(conversationId, [{ caller, through, kind, resolve, reject }]);
      // After this turn's I/O callbacks, so every ack read from the sockets in it joins the batch.
      if (pending.size === 1 && !claims) setImmediate(flush);
    });
  }

  return {
    markRead: (caller: Caller, conversationId: string, through: bigint) => claim(caller, conversationId, through, "read"),
    markDelivered: (caller: Caller, conversationId: string, through: bigint) =>
      claim(caller, conversationId, through, "delivered"),
  };
}

export type Receipts = ReturnType<typeof createReceipts>;
