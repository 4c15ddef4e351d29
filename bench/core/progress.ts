// Progress on stderr, one logfmt line per event (key=value, readable and greppable), with the
// time since the bench started. Results never go here; they go to bench/results/.
const started = performance.now();

type Value = string | number | boolean | null | undefined;

function format(value: string | number | boolean): string {
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
  const text = String(value);
  return /[\s="]/.test(text) ? JSON.stringify(text) : text;
}

export function progress(event: string, fields: Record<string, Value> = {}): void {
  const elapsed = ((performance.now() - started) / 1000).toFixed(1);
  const parts = [`t=${elapsed}s`, `event=${event}`];
  for (const [key, value] of Object.entries(fields))
    if (value !== undefined && value !== null) parts.push(`${key}=${format(value)}`);
  process.stderr.write(`${parts.join(" ")}\n`);
}

export const elapsedSeconds = () => (performance.now() - started) / 1000;
