// What one load worker measures during a step: send→receive latency of every delivered copy (HDR
// histogram, microseconds), send→SendResult latency, and per message the slowest copy (for "the
// last member receives within ..."). Only messages whose scheduled send time falls inside the
// measurement window count, so every worker agrees on the window without talking to the others.
import * as hdr from "hdr-histogram-js";
import { messageKey, nowUs, type Stamp } from "./stamp.ts";

export const newHistogram = () => hdr.build({ numberOfSignificantValueDigits: 3, highestTrackableValue: 600_000_000 });

export interface RecorderSnapshot {
  /** hdr-histogram-js compressed base64, microseconds. */
  latency: string;
  sendResult: string;
  copies: number;
  /** [messageKey, slowest copy µs, copies] for every message seen, when tracking. */
  perMessage: [number, number, number][];
}

export class Recorder {
  #latency = newHistogram();
  #sendResult = newHistogram();
  #copies = 0;
  #fromUs = 0;
  #toUs = 0;
  #perMessage: Map<number, [number, number]> | undefined;

  /** Starts a window: copies of messages scheduled in [fromUs, toUs) count from now on. */
  window(fromUs: number, toUs: number, trackMessages: boolean): void {
    this.#fromUs = fromUs;
    this.#toUs = toUs;
    this.#perMessage = trackMessages ? new Map() : undefined;
  }

  /** A bench message arrived on device `receiver`; the sender's own copy is not a delivery. */
  copy(stamp: Stamp, receiver: number): void {
    if (stamp.sender === receiver || stamp.sentUs < this.#fromUs || stamp.sentUs >= this.#toUs) return;
    const latency = Math.max(1, nowUs() - stamp.sentUs);
    this.#latency.recordValue(latency);
    this.#copies++;
    const per = this.#perMessage;
    if (per) {
      const key = messageKey(stamp);
      const seen = per.get(key);
      if (seen) {
        if (latency > seen[0]) seen[0] = latency;
        seen[1]++;
      } else per.set(key, [latency, 1]);
    }
  }

  /** A SendResult arrived for a message scheduled at sentUs. */
  sendResult(sentUs: number): void {
    if (sentUs < this.#fromUs || sentUs >= this.#toUs) return;
    this.#sendResult.recordValue(Math.max(1, nowUs() - sentUs));
  }

  /** Ends the window: copies that land after this belong to no step (late ones are lost, not moved). */
  snapshot(): RecorderSnapshot {
    const snapshot = {
      latency: hdr.encodeIntoCompressedBase64(this.#latency),
      sendResult: hdr.encodeIntoCompressedBase64(this.#sendResult),
      copies: this.#copies,
      perMessage: [...(this.#perMessage ?? [])].map(([key, [max, count]]) => [key, max, count] as [number, number, number]),
    };
    this.#latency.reset();
    this.#sendResult.reset();
    this.#copies = 0;
    this.#fromUs = 0;
    this.#toUs = 0;
    this.#perMessage = undefined;
    return snapshot;
  }
}
