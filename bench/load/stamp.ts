// The stamp every bench message carries in its text body: "<sent µs>.<sender>.<number>." then
// padding to the configured size. The sent time is the *scheduled* send time (wall clock in
// microseconds, the same clock in every process of this machine), so a load generator that falls
// behind shows up as latency instead of hiding it (no coordinated omission).

export interface Stamp {
  /** Scheduled send time, epoch microseconds. */
  sentUs: number;
  /** Global index of the sending device. */
  sender: number;
  /** The sender's message number; (sender, number) identifies a message across workers. */
  number: number;
}

/** Wall-clock microseconds with sub-millisecond resolution. */
export const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

export function stampBody(stamp: Stamp, bytes: number): string {
  const head = `${stamp.sentUs}.${stamp.sender}.${stamp.number}.`;
  return head.length >= bytes ? head : head + "x".repeat(bytes - head.length);
}

/** Parses the stamp from UTF-8 body bytes; undefined for bodies the bench did not write. */
export function parseStamp(buf: Uint8Array, start: number, end: number): Stamp | undefined {
  const values = [0, 0, 0];
  let pos = start;
  for (let i = 0; i < 3; i++) {
    let value = 0;
    let digits = 0;
    while (pos < end) {
      const c = buf[pos++] as number;
      if (c === 0x2e) break;
      if (c < 0x30 || c > 0x39) return undefined;
      value = value * 10 + (c - 0x30);
      digits++;
    }
    if (digits === 0) return undefined;
    values[i] = value;
  }
  return { sentUs: values[0] as number, sender: values[1] as number, number: values[2] as number };
}

/** A key for (sender, number) that fits a double exactly. */
export const messageKey = (stamp: Stamp) => stamp.number * 65_536 + stamp.sender;
