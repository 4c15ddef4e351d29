// A fanout worker's deliveries to one gateway, many on one long-lived DeliverStream instead of a
// Deliver call each (stream-channel.ts says why). Each delivery still gets its own answer,
// deadline and error, and carries its trace context, so the caller cannot tell the two apart.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import {
  DeliverRequestSchema,
  type DeliverResponse,
  DeliverResponseSchema,
  type DeliverStreamRequest,
  DeliverStreamRequestSchema,
  type DeliverStreamResponse,
  type GatewayInternalService,
} from "../../gen/parley/internal/v1/gateway_pb.js";
import type { Logger } from "../shared/logger.ts";
import { createStreamChannel, refusedAsUnsupported } from "../shared/stream-channel.ts";
import { traceHeaders } from "../shared/tracing.ts";

type DeliverInit = MessageInitShape<typeof DeliverRequestSchema>;

export interface GatewayDeliverer {
  deliver(request: DeliverInit, options?: { timeoutMs?: number }): Promise<DeliverResponse>;
  /** Ends the stream; deliveries still waiting fail with CANCELED. */
  close(): void;
}

const defaultTimeoutMs = 5_000;

export function createDeliverStream(
  client: Client<typeof GatewayInternalService>,
  options: { gatewayId: string; logger: Logger; onOpen?: () => void },
): GatewayDeliverer {
  const channel = createStreamChannel<DeliverStreamRequest, DeliverStreamResponse>({
    open: (requests, signal) => client.deliverStream(requests, { signal }),
    peer: `gateway ${options.gatewayId}`,
    logger: options.logger,
    onOpen: options.onOpen,
  });
  const unary = (request: DeliverInit, timeoutMs: number) => client.deliver(request, { timeoutMs });
  return {
    async deliver(request, callOptions = {}) {
      const timeoutMs = callOptions.timeoutMs ?? defaultTimeoutMs;
      if (channel.unsupported) return unary(request, timeoutMs);
      try {
        const response = await channel.call(
          (id) =>
            create(DeliverStreamRequestSchema, {
              id,
              deliver: create(DeliverRequestSchema, request),
              traceContext: traceHeaders(),
            }),
          timeoutMs,
        );
        return response.result ?? create(DeliverResponseSchema);
      } catch (error) {
        // Refused before any answer by a gateway without DeliverStream: this one goes by Deliver.
        if (refusedAsUnsupported(error, channel)) return unary(request, timeoutMs);
        throw error;
      }
    },
    close: () => channel.close(),
  };
}
