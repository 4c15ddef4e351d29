// What a device session needs from the messaging service, called on the device's behalf through
// a typed Connect client (in-process router transport or gRPC: the session never knows which).
import type { Client } from "@connectrpc/connect";
import type { Cursor } from "../../gen/parley/v1/events_pb.js";
import type {
  MessagingService,
  SendMessageRequest,
  SendMessageResponse,
  SyncResponse,
} from "../../gen/parley/v1/messaging_pb.js";
import { type Caller, contextValuesFor, onBehalfOf } from "../shared/auth.ts";

export interface SessionBackend {
  sync(cursors: Cursor[], listedOnly: boolean, pageSize: number): Promise<SyncResponse>;
  send(request: SendMessageRequest): Promise<SendMessageResponse>;
  markDelivered(conversationId: string, throughSequence: bigint): Promise<void>;
  markRead(conversationId: string, throughSequence: bigint): Promise<void>;
}

export function messagingBackend(client: Client<typeof MessagingService>, caller: Caller): SessionBackend {
  return new MessagingBackend(client, caller);
}

/**
 * A class, not an object of closures, and the bearer header made per call rather than kept: every
 * idle stream holds one of these, so it holds no more than the client and the caller.
 */
class MessagingBackend implements SessionBackend {
  readonly #client: Client<typeof MessagingService>;
  readonly #caller: Caller;

  constructor(client: Client<typeof MessagingService>, caller: Caller) {
    this.#client = client;
    this.#caller = caller;
  }

  /**
   * The bearer header for a remote messaging service; an in-process one takes the caller from the
   * context values and only rechecks it (createLocalClient), with no token to parse and look up.
   */
  get #options() {
    return { headers: onBehalfOf(this.#caller), contextValues: contextValuesFor(this.#caller) };
  }

  sync(cursors: Cursor[], listedOnly: boolean, pageSize: number): Promise<SyncResponse> {
    return this.#client.sync({ cursors, listedOnly, pageSize }, this.#options);
  }

  send(request: SendMessageRequest): Promise<SendMessageResponse> {
    return this.#client.sendMessage(request, this.#options);
  }

  async markDelivered(conversationId: string, throughSequence: bigint): Promise<void> {
    await this.#client.markDelivered({ conversationId, throughSequence }, this.#options);
  }

  async markRead(conversationId: string, throughSequence: bigint): Promise<void> {
    await this.#client.markRead({ conversationId, throughSequence }, this.#options);
  }
}
