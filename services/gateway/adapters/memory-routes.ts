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

  async refresh(routes: Route[], ttlMs: number): Promise<void> {
    const expiresAt = this.#clock.now() + ttlMs;
    for (const route of routes) {
      const entry = this.#byUser.get(route.userId)?.get(route.deviceId);
      if (entry?.route.sessionId === route.sessionId) entry.expiresAt = expiresAt;
    }
  }

  async lookup(userIds: string[]): Promise<Route[]> {
    const now = this.#clock.now();
    const routes: Route[] = [];
    for (const userId of userIds) {
      for (const entry of this.#byUser.get(userId)?.values() ?? []) if (entry.expiresAt > now) routes.push(entry.route);
    }
    return routes;
  }
}
