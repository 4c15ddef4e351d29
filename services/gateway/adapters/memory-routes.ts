// Routes in process memory, for the all-in-one process and tests.
import type { Clock } from "../../shared/clock.ts";
import type { Route, RouteRegistry } from "../ports.ts";

interface Entry {
  route: Route;
  expiresAt: number;
}

export class MemoryRouteRegistry implements RouteRegistry {
  readonly #byUser = new Map<string, Map<string, Entry>>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async register(route: Route, ttlMs: number): Promise<void> {
    const devices = this.#byUser.get(route.userId) ?? new Map<string, Entry>();
    devices.set(route.deviceId, { route, expiresAt: this.#clock.now() + ttlMs });
    this.#byUser.set(route.userId, devices);
  }

  async unregister(route: Route): Promise<void> {
    const devices = this.#byUser.get(route.userId);
    if (devices?.get(route.deviceId)?.route.sessionId !== route.sessionId) return;
    devices.delete(route.deviceId);
    if (devices.size === 0) this.#byUser.delete(route.userId);
  }

  async refresh(routes: Route[], ttlMs: number): Promise<Route[]> {
    const expiresAt = this.#clock.now() + ttlMs;
    const recreated: Route[] = [];
    for (const route of routes) {
      const devices = this.#byUser.get(route.userId) ?? new Map<string, Entry>();
      const entry = devices.get(route.deviceId);
      // Expired or missing: the gateway still holds the stream, so the route comes back.
      const lost = !entry || entry.expiresAt <= this.#clock.now();
      if (!lost && entry.route.sessionId !== route.sessionId) continue;
      if (lost) recreated.push(route);
      devices.set(route.deviceId, { route, expiresAt });
      this.#byUser.set(route.userId, devices);
    }
    return recreated;
  }

  async lookup(userIds: string[]): Promise<Route[]> {
    const now = this.#clock.now();
    const routes: Route[] = [];
    // A user asked twice is answered once, so no device is offered an event twice.
    for (const userId of new Set(userIds)) {
      for (const entry of this.#byUser.get(userId)?.values() ?? []) if (entry.expiresAt > now) routes.push(entry.route);
    }
    return routes;
  }
}
