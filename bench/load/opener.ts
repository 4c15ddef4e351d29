// Opens many device streams: either with bounded concurrency (setting up a scenario) or with
// arrivals spread evenly over a period (a reconnect storm), timing each open → CaughtUp.
import * as hdr from "hdr-histogram-js";
import type { Device } from "./device.ts";
import type { OpenCommand, OpenResult } from "./protocol.ts";
import { newHistogram } from "./recorder.ts";

export async function openDevices(devices: Device[], command: OpenCommand): Promise<OpenResult> {
  const histogram = newHistogram();
  const result: OpenResult = {
    opened: 0,
    failed: 0,
    notAttempted: 0,
    toCaughtUp: "",
    firstOpenUs: 0,
    lastCaughtUpUs: 0,
    replayed: 0,
    events: 0,
  };
  const openOne = async (device: Device) => {
    const ok = await withTimeout(device.open(command.window, command.helloCursors), command.timeoutMs);
    if (!result.firstOpenUs || device.openedUs < result.firstOpenUs) result.firstOpenUs = device.openedUs;
    if (!ok) {
      result.failed++;
      if (device.state !== "closed") device.close(true);
      return;
    }
    result.opened++;
    result.replayed += device.replayed;
    result.events += device.eventsSinceOpen;
    result.lastCaughtUpUs = Math.max(result.lastCaughtUpUs, device.caughtUpUs);
    histogram.recordValue(Math.max(1, device.caughtUpUs - device.openedUs));
  };
  if (command.spreadMs) {
    const start = performance.now();
    const step = command.spreadMs / Math.max(1, devices.length);
    await Promise.all(
      devices.map(
        (device, i) =>
          new Promise<void>((resolve) => {
            setTimeout(() => openOne(device).then(resolve), Math.max(0, start + i * step - performance.now()));
          }),
      ),
    );
  } else {
    let next = 0;
    const deadline = performance.now() + (command.deadlineMs ?? Number.POSITIVE_INFINITY);
    const lanes = Math.max(1, Math.min(command.concurrency ?? 64, devices.length));
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < devices.length && performance.now() < deadline) await openOne(devices[next++] as Device);
      }),
    );
    result.notAttempted = devices.length - next;
    result.failed += result.notAttempted;
  }
  result.toCaughtUp = hdr.encodeIntoCompressedBase64(histogram);
  return result;
}

async function withTimeout(settled: Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
