// MessagingRelayService: a gateway's sends and receipts for its devices, many on one long-lived
// stream (shared/stream-channel.ts says why). Each request runs as the call it stands for would:
// through `messaging`, an in-process client that authenticates the device's token as the bearer
// header would be (signature, expiry, sign-out), in a span of the caller's trace named after the
// call, with its failure published (logged, counted) as the error interceptor does.
import { create, toBinary } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  MessagingRelayService,
  type RelayError,
  RelayErrorSchema,
  type RelayRequest,
  type RelayResponse,
  RelayResponseSchema,
} from "../../gen/parley/internal/v1/messaging_relay_pb.js";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import { AsyncQueue } from "../shared/async-queue.ts";
import { type ErrorCounter, publishError } from "../shared/error-interceptor.ts";
import { invalidArgument } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { withSpanFromHeaders } from "../shared/tracing.ts";
import { untilAborted } from "../shared/until-aborted.ts";

/** Requests one stream may have running at once; past it the stream stops reading (HTTP/2 flow control pushes back). */
const defaultInFlightLimit = 1_000;

type Outcome = RelayResponse["outcome"];

export function createMessagingRelayService(deps: {
  messaging: Pick<Client<typeof MessagingService>, "sendMessage" | "markDelivered" | "markRead">;
  logger: Logger;
  onError?: ErrorCounter;
  /** Aborted when the instance drains: streams take no new requests, answer those running, then end. */
  closing?: AbortSignal;
  /** Requests one stream may have running at once (default 1,000). */
  inFlightLimit?: number;
  /** Follows the requests running, across streams. */
  inFlight?: { inc(): void; dec(): void };
}): ServiceImpl<typeof MessagingRelayService> {
  const closing = deps.closing ?? new AbortController().signal;
  const inFlightLimit = deps.inFlightLimit ?? defaultInFlightLimit;

  async function run(request: RelayRequest): Promise<Outcome> {
    const options = { headers: { authorization: `Bearer ${request.accessToken}` } };
    const call = request.call;
    switch (call.case) {
      case "sendMessage":
        return { case: "sendMessage", value: await deps.messaging.sendMessage(call.value, options) };
      case "markDelivered":
        return { case: "markDelivered", value: await deps.messaging.markDelivered(call.value, options) };
      case "markRead":
        return { case: "markRead", value: await deps.messaging.markRead(call.value, options) };
      default:
        throw invalidArgument("call", "RELAY_CALL_MISSING", "a relay request names no call");
    }
  }

  async function answer(request: RelayRequest): Promise<RelayResponse> {
    const procedure = procedureOf(request);
    try {
      const outcome =
        Object.keys(request.traceContext).length === 0
          ? await run(request)
          : await withSpanFromHeaders(procedure, request.traceContext, () => run(request));
      return create(RelayResponseSchema, { id: request.id, outcome });
    } catch (error) {
      const published = publishError(deps.logger, procedure, error, deps.onError);
      return create(RelayResponseSchema, { id: request.id, outcome: { case: "error", value: relayError(published) } });
    }
  }

  return {
    async *relay(requests) {
      if (closing.aborted) throw new ConnectError("messaging is draining", Code.Unavailable);
      const answers = new AsyncQueue<RelayResponse>();
      let running = 0;
      let reading = true;
      let room: (() => void) | undefined;
      const settle = (response: RelayResponse) => {
        answers.push(response);
        running--;
        deps.inFlight?.dec();
        room?.();
        room = undefined;
        if (!reading && running === 0) answers.close();
      };
      void (async () => {
        try {
          for await (const request of untilAborted(requests, closing)) {
            running++;
            deps.inFlight?.inc();
            void answer(request).then(settle, (error: unknown) => {
              // answer() catches the call's failures; this is a fault in encoding one (never a rejection left unhandled).
              deps.logger.error("relay answer failed", { error });
              settle(
                create(RelayResponseSchema, {
                  id: request.id,
                  outcome: { case: "error", value: { code: Code.Internal, message: "internal error" } },
                }),
              );
            });
            if (running >= inFlightLimit) await new Promise<void>((resolve) => (room = resolve));
          }
        } catch (error) {
          deps.logger.debug("relay stream's requests failed", { error: error instanceof Error ? error.message : String(error) });
        } finally {
          reading = false;
          if (running === 0) answers.close();
        }
      })();
      yield* answers;
    },
  };
}

/** The procedure a relay request stands for, as its span and error log name it. */
function procedureOf(request: RelayRequest): string {
  const call = request.call.case;
  return call === undefined
    ? `${MessagingRelayService.typeName}/${MessagingRelayService.method.relay.name}`
    : `${MessagingService.typeName}/${MessagingService.method[call].name}`;
}

/** A public error as a relay response carries it, details encoded. */
export function relayError(error: ConnectError): RelayError {
  return create(RelayErrorSchema, {
    code: error.code,
    message: error.rawMessage,
    details: error.details.map((detail) =>
      "desc" in detail
        ? { type: detail.desc.typeName, value: toBinary(detail.desc, create(detail.desc, detail.value)) }
        : { type: detail.type, value: detail.value },
    ),
  });
}
