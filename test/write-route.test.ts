// Where the embedded server's hot writes commit: the route follows the serving thread's
// event-loop utilization, with a gap between its two thresholds so that it does not flap.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { loadRoute, nextOffload } from "../services/storage/write-route.ts";

const thresholds = { threadAbove: 0.75, inlineBelow: 0.55 };

test("writes go to the thread at the upper threshold and come back only at the lower one", () => {
  const seen: boolean[] = [];
  let offload = false;
  for (const busy of [0.2, 0.74, 0.75, 0.6, 0.56, 0.55, 0.7, 0.9, 0.1]) {
    offload = nextOffload(offload, busy, thresholds);
    seen.push(offload);
  }
  assert.deepEqual(seen, [false, false, true, true, true, false, false, true, false]);
});

test("a load route samples utilization on its own and stops when told", async () => {
  const samples = [0.9, 0.6, 0.1];
  /** The route's answer before each sample: what the samples so far decided. */
  const decided: boolean[] = [];
  const route = loadRoute({
    ...thresholds,
    sampleMs: 5,
    utilization: () => {
      decided.push(route.offload);
      return samples[decided.length - 1] ?? 0.1;
    },
  });
  try {
    while (decided.length < 4) await sleep(5);
  } finally {
    route.stop();
  }
  assert.deepEqual(decided.slice(0, 4), [false, true, true, false]);
  const taken = decided.length;
  await sleep(30);
  assert.equal(decided.length, taken, "no samples after stop");
});
