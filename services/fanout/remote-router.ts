// Delivery across processes: find each recipient device's gateway in the route registry and call
// that gateway, one delivery per gateway per event (deliver-stream.ts carries them).

import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { DeliverRequestSchema } from "../../gen/parley/internal/v1/gateway_pb.js";
import type { RouteRegistry } from "../gateway/ports.ts";
import type { Logger } from "../shared/logger.ts";
import type { GatewayDeliverer } from "./deliver-stream.ts";
import type { DeliveryRouter, EventDelivery } from "./ports.ts";

type Payload = MessageInitShape<typeof DeliverRequestSchema>["payload"];

export function createRemoteRouter(deps: {
  routes: RouteRegistry;
  gateway: (gatewayId: string) => Pick<GatewayDeliverer, "deliver">;
  logger: Logger;
}): DeliveryRouter {
  async function send(gatewayId: string, userIds: string[], payload: Payload, delivery?: EventDelivery): Promise<void> {
    try {
      await deps.gateway(gatewayId).deliver({ userIds, payload, ...delivery }, { timeoutMs: 5_000 });
    } catch (error) {
      // A gateway that cannot be reached has died or is draining: its devices reconnect to
      // another gateway and catch up from storage, so its stale route is skipped, not retried.
      if (error instanceof ConnectError && (error.code === Code.Unavailable || error.code === Code.Canceled)) {
        deps.logger.warn("gateway unreachable; its devices will resume from storage", { gatewayId, code: Code[error.code] });
        return;
      }
      throw error;
    }
  }

  async function fanOut(userIds: string[], payload: Payload, delivery?: EventDelivery): Promise<void> {
    const byGateway = new Map<string, Set<string>>();
    for (const route of await deps.routes.lookup(userIds)) {
      const users = byGateway.get(route.gatewayId) ?? new Set<string>();
      users.add(route.userId);
      byGateway.set(route.gatewayId, users);
    }
    deps.logger.debug("fan out", { kind: payload?.case, users: userIds.length, gateways: byGateway.size });
    await Promise.all([...byGateway].map(([gatewayId, users]) => send(gatewayId, [...users], payload, delivery)));
  }

  return {
    deliverEvent: (userIds, event, delivery) => fanOut(userIds, { case: "event", value: event }, delivery),
    deliverReceipt: (userIds, receipt) => fanOut(userIds, { case: "receipt", value: receipt }),
    async closeDevice(userId, deviceId) {
      const routes = (await deps.routes.lookup([userId])).filter((r) => r.deviceId === deviceId);
      await Promise.all(routes.map((r) => send(r.gatewayId, [], { case: "closeDeviceId", value: deviceId })));
    },
  };
}
