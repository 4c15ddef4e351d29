// GatewayInternalService: fanout workers hand events, receipts and sign-outs to this gateway's streams,
// one call each (Deliver) or many on one long-lived stream (DeliverStream).
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type DeliverRequest,
  DeliverRequestSchema,
  type DeliverResponse,
  DeliverResponseSchema,
  GatewayInternalService,
} from "../../gen/parley/internal/v1/gateway_pb.js";
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";
import { withSpanFromHeaders } from "../shared/tracing.ts";
import { untilAborted } from "../shared/until-aborted.ts";
import type { SessionRegistry } from "./registry.ts";

const deliverSpanName = `${GatewayInternalService.typeName}/${GatewayInternalService.method.deliver.name}`;

/**
 * `closing` aborts when the gateway starts to drain: open DeliverStreams end and new ones are
 * refused (UNAVAILABLE), so no fanout worker's stream holds the server open while it stops.
 * `onOffered` is told of each event once its devices have it (for the metrics).
 */
export function createGatewayInternalService(
  registry: SessionRegistry,
  closing: AbortSignal = new AbortController().signal,
  onOffered?: (event: ConversationEvent) => void,
): ServiceImpl<typeof GatewayInternalService> {
  function deliver(req: DeliverRequest): DeliverResponse {
    const payload = req.payload;
    switch (payload.case) {
      case "event": {
        const offered = registry.offerEvent(req.userIds, payload.value, { receiptsNotLive: req.receiptsNotLive });
        onOffered?.(payload.value);
        return create(DeliverResponseSchema, { offered });
      }
      case "receipt":
        return create(DeliverResponseSchema, { offered: registry.offerReceipt(req.userIds, payload.value) });
      case "closeDeviceId":
        return create(DeliverResponseSchema, { offered: registry.closeStream(payload.value) ? 1 : 0 });
      default:
        return create(DeliverResponseSchema, { offered: 0 });
    }
  }
  const empty = create(DeliverRequestSchema);
  return {
    deliver: async (req) => deliver(req),
    // Handed over in order, one at a time: delivery is synchronous, so the answers keep up.
    async *deliverStream(requests) {
      if (closing.aborted) throw new ConnectError("gateway is draining", Code.Unavailable);
      for await (const { id, deliver: request = empty, traceContext } of untilAborted(requests, closing)) {
        // Each delivery is a span of its message's trace, named as the Deliver call's would be.
        const result =
          Object.keys(traceContext).length === 0
            ? deliver(request)
            : await withSpanFromHeaders(deliverSpanName, traceContext, async () => deliver(request));
        yield { id, result };
      }
    },
  };
}
