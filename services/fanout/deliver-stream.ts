// A fanout worker's deliveries to one gateway, many on one long-lived DeliverStream instead of a
// Deliver call each: a call costs both processes a new HTTP/2 stream, headers, trailers and
// Connect's per-call setup, which at chat rates was a large share of their CPU. Each delivery
// still gets its own answer, deadline and error, so the caller cannot tell the two apart.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import {
  DeliverRequestSchema,
  type DeliverResponse,
  DeliverResponseSchema,
  type DeliverStreamRequest,
  DeliverStreamRequestSchema,
  type GatewayInternalService,
} from "../../gen/parley/internal/v1/gateway_pb.js";
import type { Logger } from "../shared/logger.ts";
import { outsideTrace, traceHeaders } from "../shared/tracing.ts";
import { RequestQueue } from "./request-queue.ts";

type DeliverInit = MessageInitShape<typeof DeliverRequestSchema>;

export interface GatewayDeliverer {
  deliver(request: DeliverInit, options?: { timeoutMs?: number }): Promise<DeliverResponse>;
  /** Ends the stream; deliveries still waiting fail with CANCELED. */
  close(): void;
}

interface Pending {
  resolve(response: DeliverResponse): void;
  reject(error: ConnectError): void;
  timer: NodeJS.Timeout | undefined;
}

interface OpenStream {
  requests: RequestQueue<DeliverStreamRequest>;
  pending: Map<bigint, Pending>;
  abort: AbortController;
  answered: boolean;
}

const defaultTimeoutMs = 5_000;

export function createDeliverStream(
  client: Client<typeof GatewayInternalService>,
  options: { gatewayId: string; logger: Logger },
): GatewayDeliverer {
  const { logger, gatewayId } = options;
  let current: OpenStream | undefined;
  let nextId = 1n;
  // A gateway from before DeliverStream (a rolling upgrade) answers UNIMPLEMENTED: use Deliver.
  let unaryOnly = false;
  let closed = false;

  function open(): OpenStream {
    const stream: OpenStream = {
      requests: new RequestQueue(),
      pending: new Map(),
      abort: new AbortController(),
      answered: false,
    };
    // The stream belongs to no one delivery's trace; each delivery carries its own (trace_context).
    const responses = outsideTrace(() => client.deliverStream(stream.requests, { signal: stream.abort.signal }));
    void (async () => {
      try {
        for await (const response of responses) {
          stream.answered = true;
          const waiter = stream.pending.get(response.id);
          if (!waiter) continue; // timed out already
          stream.pending.delete(response.id);
          clearTimeout(waiter.timer);
          waiter.resolve(response.result ?? create(DeliverResponseSchema));
        }
        end(stream, new ConnectError("the gateway ended the delivery stream", Code.Unavailable));
      } catch (error) {
        end(stream, ConnectError.from(error));
      }
    })();
    logger.debug("delivery stream opened", { gatewayId });
    return stream;
  }

  function end(stream: OpenStream, error: ConnectError) {
    if (current === stream) current = undefined;
    stream.requests.close();
    stream.abort.abort();
    if (error.code === Code.Unimplemented && !stream.answered) unaryOnly = true;
    const waiting = [...stream.pending.values()];
    stream.pending.clear();
    if (waiting.length > 0) logger.debug("delivery stream ended", { gatewayId, code: Code[error.code], waiting: waiting.length });
    for (const waiter of waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  return {
    deliver(request, callOptions = {}) {
      const timeoutMs = callOptions.timeoutMs ?? defaultTimeoutMs;
      if (closed) return Promise.reject(new ConnectError("delivery stream closed", Code.Canceled));
      if (unaryOnly) return client.deliver(request, { timeoutMs });
      current ??= open();
      const stream = current;
      const id = nextId++;
      return new Promise<DeliverResponse>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (stream.pending.delete(id)) reject(new ConnectError("delivery not answered in time", Code.DeadlineExceeded));
        }, timeoutMs);
        stream.pending.set(id, { resolve, reject, timer });
        stream.requests.push(
          create(DeliverStreamRequestSchema, {
            id,
            deliver: create(DeliverRequestSchema, request),
            traceContext: traceHeaders(),
          }),
        );
      }).catch((error: unknown) => {
        // Refused before any answer by a gateway without DeliverStream: this one goes by Deliver.
        if (error instanceof ConnectError && error.code === Code.Unimplemented && unaryOnly) {
          return client.deliver(request, { timeoutMs });
        }
        throw error;
      });
    },
    close() {
      closed = true;
      if (current) end(current, new ConnectError("delivery stream closed", Code.Canceled));
    },
  };
}
