// One simulated device: opens its stream (Hello, then Ready, replay, CaughtUp), acks what it
// receives cumulatively, answers heartbeats, sends stamped messages and counts what happens.
import { ackFrame, dispatchServerFrame, type FrameHandler, heartbeatFrame, helloFrame, sendFrame } from "./frames.ts";
import { openGrpcWire } from "./grpc-wire.ts";
import type { Recorder } from "./recorder.ts";
import { nowUs, type Stamp, stampBody } from "./stamp.ts";
import type { Wire, WireTarget } from "./wire.ts";
import { openWsWire } from "./ws-wire.ts";

export interface DeviceSpec {
  /** Global index of the device in the scenario (stamps carry it). */
  index: number;
  userId: string;
  deviceId: string;
  target: WireTarget;
}

/** Counters shared by the devices of one worker. */
export interface DeviceTally {
  /** Every server frame of every kind. */
  frames: number;
  events: number;
  /** Events received again on the same stream (sequence not above the highest held). */
  duplicates: number;
  /** Events that skipped sequences on the same stream (something in between never came). */
  gaps: number;
  receipts: number;
  goAways: Map<number, number>;
  closes: Map<string, number>;
  sendErrors: Map<string, number>;
  streamErrors: Map<string, number>;
}

export interface DeviceContext {
  recorder: Recorder;
  tally: DeviceTally;
  /** Asks for this device's cumulative ack to be written soon (acks are batched per tick). */
  wantAck(device: Device): void;
}

/**
 * Makes client message ids unique across workers and runs: the same device index in a later pool
 * must not repeat an earlier id, or the server rightly answers with the stored message (a retry).
 */
const runTag = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;

const bump = (map: Map<string | number, number>, key: string | number) => map.set(key, (map.get(key) ?? 0) + 1);

export class Device implements FrameHandler {
  readonly spec: DeviceSpec;
  state: "idle" | "connecting" | "live" | "closed" = "idle";
  openedUs = 0;
  caughtUpUs = 0;
  replayed = 0;
  eventsSinceOpen = 0;
  lastDeliveryId = 0;
  ackedId = 0;
  #wire: Wire | undefined;
  #ctx: DeviceContext;
  #sentQueue: number[] = [];
  #sentHead = 0;
  #number = 0;
  /** Highest sequence received per conversation on the current stream. */
  #held = new Map<string, number>();
  #nonce = 0;
  #onSettled: ((ok: boolean) => void) | undefined;

  constructor(spec: DeviceSpec, ctx: DeviceContext) {
    this.spec = spec;
    this.#ctx = ctx;
  }

  get inFlight(): number {
    return this.#sentQueue.length - this.#sentHead;
  }

  /** Opens the stream; resolves true at CaughtUp, false if the stream ends first. */
  open(window: number, fromStart?: string[]): Promise<boolean> {
    this.state = "connecting";
    this.openedUs = nowUs();
    this.caughtUpUs = 0;
    this.replayed = 0;
    this.eventsSinceOpen = 0;
    this.lastDeliveryId = 0;
    this.ackedId = 0;
    this.#sentQueue = [];
    this.#sentHead = 0;
    this.#held.clear();
    const settled = new Promise<boolean>((resolve) => (this.#onSettled = resolve));
    const events = {
      onFrame: (frame: Uint8Array) => {
        this.#ctx.tally.frames++;
        dispatchServerFrame(frame, this);
      },
      onClose: (reason: string) => this.#closed(reason),
    };
    const target = this.spec.target;
    this.#wire = target.transport === "grpc" ? openGrpcWire(target, events) : openWsWire(target, events);
    this.#wire.write(helloFrame({ window, accessToken: target.transport === "ws" ? target.accessToken : undefined, fromStart }));
    return settled;
  }

  send(conversationId: string, sentUs: number, bodyBytes: number): void {
    const stamp: Stamp = { sentUs, sender: this.spec.index, number: ++this.#number };
    this.#sentQueue.push(sentUs);
    this.#wire?.write(sendFrame(conversationId, `b${runTag}-${stamp.sender}-${stamp.number}`, stampBody(stamp, bodyBytes)));
  }

  heartbeat(): void {
    if (this.state === "live") this.#wire?.write(heartbeatFrame(++this.#nonce, false));
  }

  flushAck(): void {
    if (this.lastDeliveryId > this.ackedId && this.state !== "closed") {
      this.ackedId = this.lastDeliveryId;
      this.#wire?.write(ackFrame(this.ackedId));
    }
  }

  close(abrupt: boolean): void {
    if (abrupt) this.#wire?.destroy();
    else this.#wire?.end();
  }

  onReady(): void {}

  onEvent(deliveryId: number, conversationId: string, sequence: number, stamp: Stamp | undefined): void {
    this.lastDeliveryId = deliveryId;
    // Within one stream each conversation's events arrive in order, each once: check it.
    const held = this.#held.get(conversationId);
    if (held !== undefined && sequence <= held) this.#ctx.tally.duplicates++;
    else {
      if (held !== undefined && sequence > held + 1) this.#ctx.tally.gaps++;
      this.#held.set(conversationId, sequence);
    }
    this.eventsSinceOpen++;
    this.#ctx.tally.events++;
    if (stamp) this.#ctx.recorder.copy(stamp, this.spec.index);
    this.#ctx.wantAck(this);
  }

  onReceipt(): void {
    this.#ctx.tally.receipts++;
  }

  onSendResult(errorReason: string | undefined): void {
    const sentUs = this.#sentQueue[this.#sentHead++];
    if (this.#sentHead > 1024) {
      this.#sentQueue = this.#sentQueue.slice(this.#sentHead);
      this.#sentHead = 0;
    }
    if (errorReason) bump(this.#ctx.tally.sendErrors, errorReason);
    else if (sentUs !== undefined) this.#ctx.recorder.sendResult(sentUs);
  }

  onCaughtUp(replayed: number): void {
    this.state = "live";
    this.caughtUpUs = nowUs();
    this.replayed = replayed;
    this.#settle(true);
  }

  onHeartbeat(nonce: number, echo: boolean): void {
    if (!echo) this.#wire?.write(heartbeatFrame(nonce, true));
  }

  onGoAway(reason: number): void {
    bump(this.#ctx.tally.goAways, reason);
  }

  onStreamError(reason: string): void {
    bump(this.#ctx.tally.streamErrors, reason);
  }

  #closed(reason: string): void {
    this.state = "closed";
    this.#wire = undefined;
    bump(this.#ctx.tally.closes, reason || "clean");
    this.#settle(false);
  }

  #settle(ok: boolean): void {
    const settle = this.#onSettled;
    this.#onSettled = undefined;
    settle?.(ok);
  }
}
