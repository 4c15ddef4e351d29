// A MessagingService client whose sends and receipts go over one long-lived Relay stream per
// messaging instance (shared/stream-channel.ts says why); every other call stays a call. Each
// request carries its device's access token, which messaging checks as it would the bearer
// header, and the caller sees the same responses and errors, details included. A conversation's
// requests go to one instance (by a hash of its id), so its appends queue in one process and share
// decisions, and that process knows the conversation's head from its own last decision.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, ConnectError } from "@connectrpc/connect";
import {
  type MessagingRelayService,
  type RelayError,
  type RelayRequest,
  RelayRequestSchema,
  type RelayResponse,
} from "../../gen/parley/internal/v1/messaging_relay_pb.js";
import {
  MarkDeliveredRequestSchema,
  type MarkDeliveredResponse,
  MarkReadRequestSchema,
  type MarkReadResponse,
  type MessagingService,
  SendMessageRequestSchema,
  type SendMessageResponse,
} from "../../gen/parley/v1/messaging_pb.js";
import { authorizationOf, bearerToken } from "../shared/auth.ts";
import type { Logger } from "../shared/logger.ts";
import { createStreamChannel, refusedAsUnsupported, type StreamChannel } from "../shared/stream-channel.ts";
import { traceHeaders } from "../shared/tracing.ts";

/** A relayed call with no deadline of its own still ends: no device waits on a lost answer forever. */
const defaultTimeoutMs = 30_000;

type Call = RelayRequest["call"];

export function relayedMessaging(
  unary: Client<typeof MessagingService>,
  relays: { url: string; client: Client<typeof MessagingRelayService> }[],
  logger: Logger,
  onOpen?: () => void,
): Client<typeof MessagingService> {
  const channels: StreamChannel<RelayRequest, RelayResponse>[] = relays.map(({ url, client }) =>
    createStreamChannel<RelayRequest, RelayResponse>({
      open: (requests, signal) => client.relay(requests, { signal }),
      peer: `messaging ${url}`,
      logger,
      onOpen,
    }),
  );
  /**
   * The conversation's instance first; UNAVAILABLE passes the call on to the next, as
   * balancedTransport does for calls (Parley's writes are idempotent). Undefined: make it a call.
   */
  async function relay(call: Call, options: CallOptions | undefined): Promise<RelayResponse["outcome"] | undefined> {
    // No header: a call, which messaging refuses as it always has. A malformed one: TOKEN_MISSING, as there.
    const header = authorizationOf(options?.headers);
    if (header === null) return undefined;
    const token = bearerToken(header);
    let lastError: unknown;
    const first = hashOf(call.value?.conversationId ?? "");
    for (let attempt = 0; attempt < channels.length; attempt++) {
      const channel = channels[(first + attempt) % channels.length] as StreamChannel<RelayRequest, RelayResponse>;
      if (channel.unsupported) return undefined;
      try {
        const response = await channel.call(
          (id) => create(RelayRequestSchema, { id, accessToken: token, traceContext: traceHeaders(), call }),
          options?.timeoutMs ?? defaultTimeoutMs,
        );
        if (response.outcome.case === "error") throw fromRelayError(response.outcome.value);
        return response.outcome;
      } catch (error) {
        // An instance from before the relay: calls from now on.
        if (refusedAsUnsupported(error, channel)) return undefined;
        if (!(error instanceof ConnectError) || error.code !== Code.Unavailable) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  return {
    ...unary,
    async sendMessage(request: MessageInitShape<typeof SendMessageRequestSchema>, options?: CallOptions) {
      const outcome = await relay({ case: "sendMessage", value: create(SendMessageRequestSchema, request) }, options);
      if (outcome === undefined) return unary.sendMessage(request, options);
      return expect<SendMessageResponse>(outcome, "sendMessage");
    },
    async markDelivered(request: MessageInitShape<typeof MarkDeliveredRequestSchema>, options?: CallOptions) {
      const outcome = await relay({ case: "markDelivered", value: create(MarkDeliveredRequestSchema, request) }, options);
      if (outcome === undefined) return unary.markDelivered(request, options);
      return expect<MarkDeliveredResponse>(outcome, "markDelivered");
    },
    async markRead(request: MessageInitShape<typeof MarkReadRequestSchema>, options?: CallOptions) {
      const outcome = await relay({ case: "markRead", value: create(MarkReadRequestSchema, request) }, options);
      if (outcome === undefined) return unary.markRead(request, options);
      return expect<MarkReadResponse>(outcome, "markRead");
    },
  };
}

/** FNV-1a over the UTF-16 code units: cheap, and spreads ids evenly over a few instances. */
function hashOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function expect<T>(outcome: RelayResponse["outcome"], kind: string): T {
  if (outcome.case !== kind) throw new ConnectError(`relay answered ${outcome.case} to ${kind}`, Code.Internal);
  return outcome.value as T;
}

function fromRelayError(error: RelayError): ConnectError {
  const failure = new ConnectError(error.message, error.code as Code);
  failure.details = error.details.map((d) => ({ type: d.type, value: d.value }));
  return failure;
}
