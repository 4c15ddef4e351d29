// Where a message's time goes in a Parley server (the embedded one or the engines cluster): its
// age at each hop, from the processes' own histograms (parley_event_age_seconds by hop, and
// fanout's parley_fanout_lag_seconds as "handed-off"), summed over the processes. Scraped before
// and after a step (never during one, a scrape costs the server CPU); the difference is that
// step's messages. Prometheus buckets give the quantiles to within a bucket, interpolated
// linearly inside it.

import { metricsText } from "./metrics.ts";

/** Cumulative counts by bucket upper bound in seconds (Infinity for +Inf), in ascending order. */
export type Buckets = Map<number, number>;
/** Buckets by hop. */
export type HopAges = Map<string, Buckets>;

/** The hops in the order a message passes them. */
export const hopOrder = ["appended", "published", "consumed", "handed-off", "offered"];

const bucketLine = /^(parley_event_age_seconds|parley_fanout_lag_seconds)_bucket\{([^}]*)\} (\S+)$/;

export function parseHopAges(text: string, into: HopAges = new Map()): HopAges {
  for (const line of text.split("\n")) {
    const match = bucketLine.exec(line);
    if (!match) continue;
    const [, name, labels = "", count] = match;
    const le = /le="([^"]+)"/.exec(labels)?.[1];
    const hop = name === "parley_fanout_lag_seconds" ? "handed-off" : /hop="([^"]+)"/.exec(labels)?.[1];
    if (le === undefined || hop === undefined) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    const buckets = into.get(hop) ?? new Map<number, number>();
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(count));
    into.set(hop, buckets);
  }
  return into;
}

/** The sum of every process's histograms; a process that does not answer is left out. */
export async function scrapeHopAges(ports: number[]): Promise<HopAges> {
  const ages: HopAges = new Map();
  for (const port of ports) {
    try {
      parseHopAges(await metricsText(port), ages);
    } catch {
      // A process that does not answer in time is not counted.
    }
  }
  return ages;
}

export function hopAgesBetween(before: HopAges, after: HopAges): HopAges {
  const delta: HopAges = new Map();
  for (const [hop, buckets] of after) {
    const earlier = before.get(hop);
    const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
    delta.set(hop, new Map(sorted.map(([bound, count]) => [bound, count - (earlier?.get(bound) ?? 0)])));
  }
  return delta;
}

/** The q-quantile in milliseconds, or undefined without observations. */
export function quantileMs(buckets: Buckets, q: number): number | undefined {
  const entries = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = entries.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of entries) {
    if (count >= rank) {
      // Past the last finite bound all that is known is that it is above it.
      if (!Number.isFinite(bound)) return lowerBound * 1000;
      const share = count === lowerCount ? 1 : (rank - lowerCount) / (count - lowerCount);
      return (lowerBound + (bound - lowerBound) * share) * 1000;
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound * 1000;
}

const ms = (value: number | undefined) => (value === undefined ? "–" : value < 10 ? value.toFixed(1) : value.toFixed(0));

/** One line for a result's notes: each hop's p50 / p99 age in ms, in hop order. */
export function describeHopAges(ages: HopAges): string | undefined {
  const parts: string[] = [];
  for (const hop of hopOrder) {
    const buckets = ages.get(hop);
    const count = buckets?.get(Number.POSITIVE_INFINITY) ?? 0;
    if (!buckets || count <= 0) continue;
    parts.push(`${hop} ${ms(quantileMs(buckets, 0.5))} / ${ms(quantileMs(buckets, 0.99))}`);
  }
  if (parts.length === 0) return undefined;
  return `A message's age at each hop in the cluster, p50 / p99 ms (the processes' own histograms, to within a bucket; the step with its warm-up and drain): ${parts.join(", ")}.`;
}
