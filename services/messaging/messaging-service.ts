// The MessagingService handlers: thin adapters from RPCs to the send, history and receipt cores.
import type { ServiceImpl } from "@connectrpc/connect";
import type { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import { callerOf } from "../shared/auth.ts";
import type { History } from "./history.ts";
import type { Receipts } from "./receipts.ts";
import type { Send } from "./send.ts";

export function createMessagingService(deps: {
  send: Send;
  history: History;
  receipts: Receipts;
}): ServiceImpl<typeof MessagingService> {
  return {
    sendMessage: (req, ctx) => deps.send(callerOf(ctx), req),
    listMessages: (req, ctx) => deps.history.listMessages(callerOf(ctx), req),
    sync: (req, ctx) => deps.history.sync(callerOf(ctx), req),
    async markRead(req, ctx) {
      const result = await deps.receipts.markRead(callerOf(ctx), req.conversationId, req.throughSequence);
      return { readThrough: result.readThrough };
    },
    async markDelivered(req, ctx) {
      const result = await deps.receipts.markDelivered(callerOf(ctx), req.conversationId, req.throughSequence);
      return { deliveredThrough: result.deliveredThrough };
    },
  };
}
