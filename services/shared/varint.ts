// Protobuf varints written by hand into a buffer the caller sized: the hot frames and the stored
// event's sequence are a few bytes each, and a BinaryWriter allocates (and zeroes) 128 bytes to
// write them. Numbers only, up to Number.MAX_SAFE_INTEGER; callers take protobuf-es beyond that.

/** Bytes a varint of `value` (a non-negative safe integer) takes. */
export function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v >= 128; v = Math.floor(v / 128)) size++;
  return size;
}

/** Writes `value` (a non-negative safe integer) at `at`; returns where it ends. */
export function writeVarint(out: Uint8Array, at: number, value: number): number {
  let v = value;
  let i = at;
  while (v >= 128) {
    out[i++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[i++] = v;
  return i;
}
