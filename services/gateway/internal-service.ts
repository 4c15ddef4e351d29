// GatewayInternalService: fanout workers hand events, receipts and sign-outs to this gateway's streams.
import type { ServiceImpl } from "@connectrpc/connect";
import type { GatewayInternalService } from "../../gen/parley/internal/v1/gateway_pb.js";
import type { SessionRegistry } from "./registry.ts";

export function createGatewayInternalService(registry: SessionRegistry): ServiceImpl<typeof GatewayInternalService> {
  return {
    async deliver(req) {
      const payload = req.payload;
      switch (payload.case) {
        case "event":
          return { offered: registry.offerEvent(req.userIds, payload.value, { receiptsNotLive: req.receiptsNotLive }) };
        case "receipt":
          return { offered: registry.offerReceipt(req.userIds, payload.value) };
        case "closeDeviceId":
          return { offered: registry.closeStream(payload.value) ? 1 : 0 };
        default:
          return { offered: 0 };
      }
    },
  };
}
