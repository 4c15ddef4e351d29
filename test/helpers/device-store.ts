// A DeviceStore in memory, for tests of what authenticates devices (not of the store itself).
import type { DeviceRecord, DeviceStore } from "../../services/identity/ports.ts";

export function memoryDeviceStore(): DeviceStore {
  const devices = new Map<string, DeviceRecord>();
  return {
    create: async (device) => void devices.set(device.deviceId, device),
    get: async (deviceId) => devices.get(deviceId),
    listActive: async (userId) => [...devices.values()].filter((d) => d.userId === userId && d.revokedAt === null),
    revoke: async (deviceId, at) => {
      const device = devices.get(deviceId);
      if (device) devices.set(deviceId, { ...device, revokedAt: at });
    },
  };
}
