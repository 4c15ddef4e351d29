// Connected devices from the route registry, where gateways record every stream they hold (Redis,
// in distributed mode; the all-in-one process asks its session registry: session-connected.ts).
import type { RouteRegistry } from "../../gateway/ports.ts";
import type { ConnectedDevices } from "../ports.ts";

export class RouteConnectedDevices implements ConnectedDevices {
  readonly #routes: RouteRegistry;
  constructor(routes: RouteRegistry) {
    this.#routes = routes;
  }

  async connected(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    return new Set((await this.#routes.lookup(userIds)).map((route) => route.deviceId));
  }
}
