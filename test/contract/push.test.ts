// Runs the push store contract against every push store adapter, and the ConnectedDevices
// contract over every route registry (memory, and Redis with PARLEY_ENGINES=1) and over the
// gateway's session registry (the all-in-one process).
import { DeviceSession } from "../../services/gateway/device-session.ts";
import { SessionRegistry } from "../../services/gateway/registry.ts";
import { SessionConnectedDevices } from "../../services/push/adapters/session-connected.ts";
import { systemClock } from "../../services/shared/clock.ts";
import { silentLogger } from "../../services/shared/logger.ts";
import { uid } from "./harness.ts";
import {
  type ConnectedDevicesAdapters,
  connectedDevicesContract,
  pushStoresContract,
  routeConnectedDevices,
} from "./push.contract.ts";
import { pushAdapters, routeAdapters } from "./registry.ts";

for (const { name, make, options } of pushAdapters) pushStoresContract(name, make, options?.PushStores);
for (const { name, make } of routeAdapters) connectedDevicesContract(`routes: ${name}`, () => routeConnectedDevices(make));
connectedDevicesContract("the gateway's session registry", async () => sessionRegistryConnectedDevices());

/** Streams are real DeviceSessions added to the registry, never started: nothing here reads storage. */
function sessionRegistryConnectedDevices(): ConnectedDevicesAdapters {
  const heartbeatIntervalMs = 30_000;
  const registry = new SessionRegistry({ clock: systemClock, heartbeatIntervalMs });
  const unused = () => Promise.reject(new Error("a session in this contract never calls its backend"));
  return {
    connected: new SessionConnectedDevices(registry),
    hold: async (userId, deviceId) => {
      const session = new DeviceSession({
        caller: { userId, deviceId, token: "", expiresAt: Date.now() + 3_600_000 },
        sessionId: uid("session"),
        backend: { sync: unused, send: unused, markDelivered: unused, markRead: unused },
        settings: { window: 64, heartbeatIntervalMs, maxMessageBytes: 65_536, pageSize: 100, deliveredLingerMs: 0 },
        logger: silentLogger,
        now: Date.now(),
      });
      registry.add(session);
      return async () => {
        session.close();
        registry.remove(session);
      };
    },
    cleanup: async () => registry.stop(),
  };
}
