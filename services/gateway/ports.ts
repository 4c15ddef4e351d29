// Which gateway holds which device stream, so fanout can reach devices wherever they connect.

export interface Route {
  deviceId: string;
  userId: string;
  /** The gateway's internal address (its id), where GatewayInternalService answers. */
  gatewayId: string;
  /** The stream that holds the device there; a newer stream replaces the route. */
  sessionId: string;
}

export interface RouteRegistry {
  /** Records that a gateway holds the device's stream, for ttlMs unless refreshed; the latest register wins. */
  register(route: Route, ttlMs: number): Promise<void>;
  /** Removes the route only if it still names this session, so a newer stream elsewhere is kept. */
  unregister(route: Route): Promise<void>;
  /**
   * Extends the lifetime of routes a gateway still holds (called on every heartbeat tick), and
   * re-creates any that are missing (a restarted registry loses nothing for longer than a tick).
   * A route that now names another session (a newer stream) is left alone. Returns the routes
   * that had to be re-created: deliveries to those devices may have been missed meanwhile.
   */
  refresh(routes: Route[], ttlMs: number): Promise<Route[]>;
  /** The live routes of these users' devices, each once (expired ones are left out). */
  lookup(userIds: string[]): Promise<Route[]>;
}
