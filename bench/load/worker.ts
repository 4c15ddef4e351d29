// A load worker: a child process of the bench that holds a share of the simulated devices and
// runs what the coordinator asks over IPC (protocol.ts). It never shares an event loop with the
// server under test, and it exits as soon as its parent goes away.
import { Device, type DeviceTally } from "./device.ts";
import { openDevices } from "./opener.ts";
import type { Command, CommandResults, Reply, Request, Tally } from "./protocol.ts";
import { Recorder } from "./recorder.ts";
import { runTraffic } from "./schedule.ts";

const devices = new Map<number, Device>();
const recorder = new Recorder();
const tally: DeviceTally = {
  frames: 0,
  events: 0,
  duplicates: 0,
  gaps: 0,
  receipts: 0,
  goAways: new Map(),
  closes: new Map(),
  sendErrors: new Map(),
  streamErrors: new Map(),
};

// Acks are written once per tick per device: cumulative, like a client that acks what it stored.
const acking = new Set<Device>();
let ackScheduled = false;
const context = {
  recorder,
  tally,
  wantAck(device: Device) {
    acking.add(device);
    if (!ackScheduled) {
      ackScheduled = true;
      setImmediate(flushAcks);
    }
  },
};
function flushAcks(): void {
  ackScheduled = false;
  for (const device of acking) device.flushAck();
  acking.clear();
}

// Client heartbeats: each device beats once per interval, the devices spread over it in 1 s slots.
let heartbeatTimer: NodeJS.Timeout | undefined;
function startHeartbeats(intervalMs: number): void {
  clearInterval(heartbeatTimer);
  if (intervalMs <= 0) return;
  const slots = Math.max(1, Math.round(intervalMs / 1000));
  let slot = 0;
  heartbeatTimer = setInterval(() => {
    for (const device of devices.values()) if (device.spec.index % slots === slot) device.heartbeat();
    slot = (slot + 1) % slots;
  }, intervalMs / slots);
  heartbeatTimer.unref();
}

const asRecord = <K extends string | number>(map: Map<K, number>) => Object.fromEntries([...map].map(([k, v]) => [String(k), v]));

async function closeDevices(abrupt: boolean, only?: number[]): Promise<{ closed: number }> {
  const targets = only ? only.map((i) => devices.get(i)).filter((d): d is Device => d !== undefined) : [...devices.values()];
  for (const device of targets) if (device.state !== "closed" && device.state !== "idle") device.close(abrupt);
  const deadline = Date.now() + 10_000;
  while (targets.some((d) => d.state === "connecting" || d.state === "live") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  // Whatever did not leave politely is dropped.
  for (const device of targets) if (device.state === "connecting" || device.state === "live") device.close(true);
  return { closed: targets.length };
}

async function run(command: Command): Promise<CommandResults[Command["kind"]]> {
  switch (command.kind) {
    case "open": {
      const opening = command.args.devices.map((spec) => {
        const existing = devices.get(spec.index);
        if (existing) return existing;
        const device = new Device(spec, context);
        devices.set(spec.index, device);
        return device;
      });
      return openDevices(opening, command.args);
    }
    case "traffic":
      return runTraffic(command.args, devices);
    case "window":
      recorder.window(command.args.fromUs, command.args.toUs, command.args.trackMessages);
      return null;
    case "collect":
      return recorder.snapshot();
    case "tally": {
      const result: Tally = {
        open: [...devices.values()].filter((d) => d.state === "live").length,
        frames: tally.frames,
        events: tally.events,
        duplicates: tally.duplicates,
        gaps: tally.gaps,
        receipts: tally.receipts,
        goAways: asRecord(tally.goAways),
        closes: asRecord(tally.closes),
        sendErrors: asRecord(tally.sendErrors),
        streamErrors: asRecord(tally.streamErrors),
      };
      return result;
    }
    case "close":
      return closeDevices(command.args.abrupt, command.args.devices);
    case "heartbeats":
      startHeartbeats(command.args.intervalMs);
      return null;
  }
}

process.on("message", (message: Request) => {
  run(message.command).then(
    (result) => process.send?.({ id: message.id, ok: true, result } satisfies Reply),
    (error: unknown) =>
      process.send?.({
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies Reply),
  );
});
process.on("disconnect", () => process.exit(0));
process.on("unhandledRejection", (reason) => {
  process.stderr.write(`load worker: unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}\n`);
  process.exit(1);
});
