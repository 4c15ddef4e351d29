// The bare relay baseline as its own process, forked by the bench with an IPC channel: it reports
// its ports, then takes conversation memberships ({id, conversationId, userIds}) and answers
// each. It exits when the bench goes away.

import { serveGrpcRelay } from "./grpc.ts";
import { Hub } from "./hub.ts";
import { serveWsRelay } from "./ws.ts";

const hub = new Hub();
const grpcPort = await serveGrpcRelay(hub, 0);
const wsPort = await serveWsRelay(hub, 0);

process.on("message", (message: { id: number; conversationId: string; userIds: string[] }) => {
  hub.setMembers(message.conversationId, message.userIds);
  process.send?.({ id: message.id });
});
process.on("disconnect", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
process.send?.({ ready: true, grpcPort, wsPort });
