// Scenario 4: reconnect storm. 10k devices (some of them in pairs, each pair in its direct conversation) are
// connected, all lose their connections at once, one message per pair is sent while they are
// away, then all reconnect with arrivals spread evenly over 10 s and catch up. Measured: time from
// the first reconnect until every device has CaughtUp, and each device's open → CaughtUp.
import { Meter } from "../core/meter.ts";
import { progress } from "../core/progress.ts";
import { LoadPool } from "../load/pool.ts";
import { figure } from "../report/results.ts";
import type { Account } from "../targets/target.ts";
import { deviceSpecs, emptyResult, resetDeviceIndexes, type Scenario } from "./context.ts";
import { openAll } from "./devices.ts";
import { waitQuiet } from "./ladder.ts";
import { withSystem } from "./systems.ts";

const ms = (us: number) => Math.round(us / 100) / 10;

export const reconnectStorm: Scenario = {
  id: "reconnect-storm",
  title: "reconnect storm: 10k devices reconnect within 10 s and catch up",
  async run(ctx) {
    const { storm, devicesPerWorker } = ctx.profile;
    const started = performance.now();
    return withSystem("parley", "reconnect-storm", storm.devices, ctx, async (target) => {
      resetDeviceIndexes();
      const result = emptyResult("reconnect-storm", this.title, target.label, "grpc");
      const pool = new LoadPool(Math.max(2, Math.ceil(storm.devices / devicesPerWorker)));
      try {
        const accounts = await target.accounts(storm.devices);
        const pairs = Array.from({ length: storm.pairs }, (_, i) => [accounts[2 * i], accounts[2 * i + 1]] as [Account, Account]);
        const conversations = await target.directs(pairs);
        const devices = deviceSpecs(target, accounts, "grpc");
        const first = await openAll(pool, devices, {
          label: "storm: first connect",
          concurrency: 64,
          timeoutMs: 60_000,
          deadlineMs: ctx.profile.budget.openTimeoutMs * Math.max(1, devices.length / 5_000),
        });
        await pool.all({ kind: "close", args: { abrupt: true } });
        progress("storm", { step: "all connections dropped; one message into each of the pairs' conversations" });
        let next = 0;
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (next < pairs.length) {
              const i = next++;
              await target.sendUnary(
                (pairs[i] as [Account, Account])[0],
                conversations[i] as string,
                `missed-${i}`,
                `while you were away ${i}`,
              );
            }
          }),
        );
        await waitQuiet(target, ctx.profile.budget.quietMaxMs);
        const meter = new Meter(
          () => target.serverPids(),
          () => [...pool.pids(), process.pid],
        );
        meter.start();
        const storming = await openAll(pool, devices, {
          label: "storm: reconnect",
          spreadMs: storm.spreadMs,
          timeoutMs: storm.timeoutMs,
        });
        const reading = meter.stop();
        const allCaughtUpS = storming.lastCaughtUpUs > 0 ? (storming.lastCaughtUpUs - storming.firstOpenUs) / 1e6 : null;
        result.steps.push({
          devices: devices.length,
          "spread s": storm.spreadMs / 1000,
          "caught up": storming.opened,
          failed: storming.failed,
          "events replayed": storming.replayed,
          "first open → all CaughtUp s": allCaughtUpS === null ? null : Math.round(allCaughtUpS * 100) / 100,
          "open→CaughtUp p50 ms": ms(storming.toCaughtUp.getValueAtPercentile(50)),
          "open→CaughtUp p99 ms": ms(storming.toCaughtUp.getValueAtPercentile(99)),
          "open→CaughtUp max ms": ms(storming.toCaughtUp.maxValue),
          "server cores": Math.round(reading.serverCores * 100) / 100,
          "server RSS MB": Math.round(reading.serverRssPeakBytes / 1e6),
          "load cores": Math.round(reading.loadCores * 100) / 100,
          "other cores": Math.round(reading.otherCores * 100) / 100,
        });
        progress("storm", result.steps[0]);
        result.figures.push(
          figure("devices caught up", storming.opened, "devices", {
            op: ">=",
            value: devices.length,
            unit: "devices",
            text: "all 10k devices reconnect and catch up",
          }),
          figure(
            "time from the first reconnect until all CaughtUp",
            allCaughtUpS === null ? null : Math.round(allCaughtUpS * 100) / 100,
            "s",
            undefined,
            `arrivals spread over ${storm.spreadMs / 1000} s, so ${storm.spreadMs / 1000} s is the floor`,
          ),
          figure("open→CaughtUp p99 per device", ms(storming.toCaughtUp.getValueAtPercentile(99)), "ms"),
        );
        result.notes.push(
          `Connections are dropped without a goodbye (as a network loss). ${storm.pairs * 2} of the devices are in ${storm.pairs} direct conversations that each get one message meanwhile, so they have events to catch up; the others have none. Devices reconnect without cursors and resume from the cursors the server stored from their acks.`,
        );
        if (first.failed) result.notes.push(`${first.failed} devices failed the first connect (before the storm).`);
        return [result];
      } finally {
        await pool.close();
        result.durationSeconds = (performance.now() - started) / 1000;
      }
    });
  },
};
