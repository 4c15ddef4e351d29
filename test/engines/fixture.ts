// A real multi-process cluster on the real engines, with clients for each of its services.
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { IdentityService } from "../../gen/parley/v1/identity_pb.js";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import { SessionService } from "../../gen/parley/v1/session_pb.js";
import { type Cluster, type ClusterOptions, startCluster } from "../../scripts/cluster/launcher.ts";
import { eventually, type SignedIn } from "../helpers/parley.ts";

export interface ClusterClients {
  identity: Client<typeof IdentityService>;
  conversations: Client<typeof ConversationService>;
  messaging: Client<typeof MessagingService>;
  /** Session clients per gateway, in start order. */
  sessions: Client<typeof SessionService>[];
}

export function clientsFor(cluster: Cluster): ClusterClients {
  const transport = (baseUrl: string) => createGrpcTransport({ baseUrl });
  const identity = transport(cluster.get("identity").url);
  const messaging = transport(cluster.get("messaging-1").url);
  return {
    identity: createClient(IdentityService, identity),
    conversations: createClient(ConversationService, messaging),
    messaging: createClient(MessagingService, messaging),
    sessions: cluster.urls("gateway").map((url) => createClient(SessionService, transport(url))),
  };
}

/** The session client of the i-th gateway (0-based). */
export function gatewayAt(clients: ClusterClients, index: number): Client<typeof SessionService> {
  const client = clients.sessions[index];
  if (!client) throw new Error(`no gateway #${index}`);
  return client;
}

/** A session client for a named gateway (for example after restarts). */
export const sessionClient = (cluster: Cluster, name: string) =>
  createClient(SessionService, createGrpcTransport({ baseUrl: cluster.get(name).url }));

export async function startEngineCluster(options: ClusterOptions = {}) {
  const cluster = await startCluster({
    messaging: 2,
    gateways: 2,
    fanout: 2,
    // Problems in any process show up in the test output (PARLEY_CLUSTER_LOGS=all shows everything).
    onLog: (name, entry) => {
      const all = process.env.PARLEY_CLUSTER_LOGS === "all";
      if (all || entry.level === "error" || (entry.level === "warn" && !String(entry.msg).startsWith("kafkajs"))) {
        process.stderr.write(`[${name}] ${JSON.stringify(entry)}\n`);
      }
    },
    ...options,
  });
  return { cluster, clients: clientsFor(cluster) };
}

export async function signIn(cluster: Cluster, clients: ClusterClients, phoneNumber: string): Promise<SignedIn> {
  await clients.identity.requestCode({ phoneNumber });
  await eventually(`code for ${phoneNumber}`, () => cluster.codes().has(phoneNumber), 10_000);
  const res = await clients.identity.verifyCode({ phoneNumber, code: cluster.codes().get(phoneNumber) ?? "", deviceName: "d" });
  return {
    userId: res.userId,
    deviceId: res.deviceId,
    accessToken: res.tokens?.accessToken ?? "",
    refreshToken: res.tokens?.refreshToken ?? "",
    phoneNumber,
  };
}
