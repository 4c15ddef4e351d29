// Typed clients for the unary services, over gRPC-Web through the edge (Envoy's grpc_web filter
// and CORS). The messages and service descriptors come from the repository's gen/ (protoc-gen-es).
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { ConversationService } from "../../../gen/parley/v1/conversations_pb.js";
import { ErrorDetailSchema } from "../../../gen/parley/v1/errors_pb.js";
import { IdentityService } from "../../../gen/parley/v1/identity_pb.js";
import { MessagingService } from "../../../gen/parley/v1/messaging_pb.js";

export function createApi(edgeUrl: string, accessToken: () => string | undefined) {
  const auth: Interceptor = (next) => (request) => {
    const token = accessToken();
    if (token) request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };
  const transport = createGrpcWebTransport({ baseUrl: edgeUrl, interceptors: [auth] });
  return {
    identity: createClient(IdentityService, transport),
    conversations: createClient(ConversationService, transport),
    messaging: createClient(MessagingService, transport),
  };
}

export type Api = ReturnType<typeof createApi>;

/** "CODE_INVALID: ..." from Parley's ErrorDetail (proto/ERRORS.md), or the plain message. */
export function describeError(error: unknown): string {
  if (!(error instanceof ConnectError)) return error instanceof Error ? error.message : String(error);
  const reason = error.findDetails(ErrorDetailSchema)[0]?.reason;
  return `${reason ?? Code[error.code]}: ${error.rawMessage}`;
}
