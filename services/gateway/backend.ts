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
import { type Caller, onBehalfOf } from "../shared/auth.ts";

export interface SessionBackend {
  sync(cursors: Cursor[], listedOnly: boolean, pageSize: number): Promise<SyncResponse>;
  send(request: SendMessageRequest): Promise<SendMessageResponse>;
  markDelivered(conversationId: string, throughSequence: bigint): Promise<void>;
  markRead(conversationId: string, throughSequence: bigint): Promise<void>;
}

export function messagingBackend(client: Client<typeof MessagingService>, caller: Caller): SessionBackend {
  const headers = onBehalfOf(caller);
  return {
    sync: (cursors, listedOnly, pageSize) => client.sync({ cursors, listedOnly, pageSize }, { headers }),
    send: (request) => client.sendMessage(request, { headers }),
    async markDelivered(conversationId, throughSequence) {
      await client.markDelivered({ conversationId, throughSequence }, { headers });
    },
    async markRead(conversationId, throughSequence) {
      await client.markRead({ conversationId, throughSequence }, { headers });
    },
  };
}
