// Open-loop arrivals: send number k is due at start + k / rate, whatever happened to earlier ones.
// A 1 ms timer catches up on every send that has come due; one issued more than `lateUs` after
// its time counts as late (its stamp still carries the scheduled time).
import type { Device } from "./device.ts";
import type { TrafficCommand, TrafficResult } from "./protocol.ts";
import { nowUs } from "./stamp.ts";

export async function runTraffic(command: TrafficCommand, devices: Map<number, Device>): Promise<TrafficResult> {
  const result: TrafficResult = { issued: 0, issuedInWindow: 0, late: 0, maxLateUs: 0, skipped: 0, maxInFlight: 0 };
  const senders = command.senders.map((slot) => {
    const device = devices.get(slot.device);
    if (!device) throw new Error(`sender ${slot.device} is not in this worker`);
    return { device, conversationId: slot.conversationId };
  });
  if (senders.length === 0 || command.rate <= 0) {
    await sleepUntil(command.endUs);
    return result;
  }
  const intervalUs = 1e6 / command.rate;
  const total = Math.floor((command.endUs - command.startUs) / intervalUs);
  await sleepUntil(command.startUs);
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowUs();
      const due = Math.min(total, Math.floor((now - command.startUs) / intervalUs) + 1);
      while (result.issued < due) {
        // Whole microseconds, as the stamp carries them, so worker and recorder agree on the window.
        const scheduledUs = Math.round(command.startUs + result.issued * intervalUs);
        const sender = senders[result.issued % senders.length] as (typeof senders)[number];
        result.issued++;
        const lateness = now - scheduledUs;
        if (lateness > command.lateUs) result.late++;
        if (lateness > result.maxLateUs) result.maxLateUs = lateness;
        if (scheduledUs >= command.measureFromUs && scheduledUs < command.measureToUs) result.issuedInWindow++;
        if (sender.device.state !== "live") {
          result.skipped++;
          continue;
        }
        sender.device.send(sender.conversationId, scheduledUs, command.bodyBytes);
        if (sender.device.inFlight > result.maxInFlight) result.maxInFlight = sender.device.inFlight;
      }
      if (result.issued >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  return result;
}

export async function sleepUntil(us: number): Promise<void> {
  const ms = (us - nowUs()) / 1000;
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}
