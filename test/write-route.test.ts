// Where the embedded server's hot writes commit: the route follows the serving thread's
// event-loop utilization. It leaves the serving connection only when the thread stays busy, and
// comes back only once the load has fallen and the thread has had the writes for a while.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { initialRoute, loadRoute, nextRoute, type RouteThresholds } from "../services/storage/write-route.ts";

const thresholds: RouteThresholds = { threadAbove: 0.95, busySamples: 2, inlineBelow: 0.85, minOffloadMs: 5_000 };

/** The route after each sample, one every 500 ms. */
function routes(samples: number[]): boolean[] {
  let state = initialRoute;
  return samples.map((busy, i) => {
    state = nextRoute(state, busy, 1_000 + i * 500, thresholds);
    return state.offload;
  });
}

test("writes go to the thread only after busy samples in a row", () => {
  assert.deepEqual(routes([0.99, 0.5, 0.97, 0.8, 0.96]), [false, false, false, false, false], "never two in a row");
  assert.deepEqual(routes([0.5, 0.95, 0.99, 0.99]), [false, false, true, true]);
});

test("they come back at the lower threshold, and not before they have been on the thread a while", () => {
  // On the thread from the third sample (t = 2,000 ms); a quiet sample before t = 7,000 is not enough.
  const quietSoon = routes([0.96, 0.96, 0.96, 0.5, 0.5]);
  assert.deepEqual(quietSoon, [false, true, true, true, true]);
  const busyThenQuiet = [0.96, 0.96, ...Array(10).fill(0.9), 0.86, 0.85];
  const after = routes(busyThenQuiet);
  assert.deepEqual(after.slice(-3), [true, true, false], "0.86 keeps the thread, 0.85 brings the writes back");
});

test("a load route samples utilization on its own and stops when told", async () => {
  const samples = [0.99, 0.99, 0.2, 0.2];
  /** The route's answer before each sample: what the samples so far decided. */
  const decided: boolean[] = [];
  let clock = 0;
  const route = loadRoute({
    ...thresholds,
    minOffloadMs: 0,
    sampleMs: 5,
    now: () => clock++,
    utilization: () => {
      decided.push(route.offload);
      return samples[decided.length - 1] ?? 0.2;
    },
  });
  try {
    while (decided.length < 5) await sleep(5);
  } finally {
    route.stop();
  }
  assert.deepEqual(decided.slice(0, 5), [false, false, true, false, false]);
  const taken = decided.length;
  await sleep(30);
  assert.equal(decided.length, taken, "no samples after stop");
});
