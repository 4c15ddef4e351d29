// Reads gauges from a Parley process's Prometheus endpoint. Scraped only between steps, never
// during a measurement, since a scrape costs the server CPU.

/** A process's /metrics text. A saturated server may take long to answer; the bench does not wait for it. */
export async function metricsText(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3_000) });
  return response.text();
}

export async function scrape(port: number): Promise<Map<string, number>> {
  const text = await metricsText(port);
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const name = line.slice(0, line.search(/[{ ]/));
    values.set(name, (values.get(name) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return values;
}

/** prom-client's default nodejs heap gauges (Parley prefixes them with parley_process_). */
export async function metricsHeap(port: number): Promise<{ usedBytes: number; totalBytes: number } | undefined> {
  if (!(port > 0)) return undefined;
  try {
    const values = await scrape(port);
    const used = values.get("parley_process_nodejs_heap_size_used_bytes");
    const total = values.get("parley_process_nodejs_heap_size_total_bytes");
    return used === undefined || total === undefined ? undefined : { usedBytes: used, totalBytes: total };
  } catch {
    return undefined;
  }
}
