// Typed Parley clients over gRPC (HTTP/2), as a native app or another service would use them.
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { IdentityService } from "../../gen/parley/v1/identity_pb.js";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import { SessionService } from "../../gen/parley/v1/session_pb.js";

export interface ParleyClients {
  identity: Client<typeof IdentityService>;
  conversations: Client<typeof ConversationService>;
  messaging: Client<typeof MessagingService>;
  session: Client<typeof SessionService>;
  health: Client<typeof Health>;
}

/** One HTTP/2 connection shared by all services; keepalive pings detect a dead server. */
export function createParleyClients(baseUrl: string): ParleyClients {
  const transport = createGrpcTransport({ baseUrl, pingIntervalMs: 15_000, pingIdleConnection: true });
  return {
    identity: createClient(IdentityService, transport),
    conversations: createClient(ConversationService, transport),
    messaging: createClient(MessagingService, transport),
    session: createClient(SessionService, transport),
    health: createClient(Health, transport),
  };
}

export const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` });
