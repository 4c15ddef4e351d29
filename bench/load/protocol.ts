// The messages between the bench (coordinator) and its load workers, over the Node IPC channel.
import type { DeviceSpec } from "./device.ts";
import type { RecorderSnapshot } from "./recorder.ts";

export interface OpenCommand {
  devices: DeviceSpec[];
  /** Receive window asked for in Hello (0 = server default). */
  window: number;
  /** Spread the opens evenly over this many ms (a storm); otherwise open with bounded concurrency. */
  spreadMs?: number;
  concurrency?: number;
  /** Conversations to replay from the start (Hello cursors at 0) instead of the stored cursors. */
  helloCursors?: string[];
  /** Give up waiting for one device's CaughtUp after this long. */
  timeoutMs: number;
  /** Start no further opens after this long (those count as failed); bounded-concurrency opens only. */
  deadlineMs?: number;
}

export interface OpenResult {
  opened: number;
  failed: number;
  /** Not attempted because the deadline passed. */
  notAttempted: number;
  /** hdr histogram (µs) of open → CaughtUp per device. */
  toCaughtUp: string;
  firstOpenUs: number;
  lastCaughtUpUs: number;
  replayed: number;
  /** Events received while opening (replay included). */
  events: number;
}

export interface SenderSlot {
  /** Global index of the sending device (it must live in this worker). */
  device: number;
  conversationId: string;
}

export interface TrafficCommand {
  senders: SenderSlot[];
  /** Messages per second this worker offers, spread round-robin over its senders. */
  rate: number;
  startUs: number;
  endUs: number;
  measureFromUs: number;
  measureToUs: number;
  bodyBytes: number;
  /** Keep the slowest copy per message (group fanout). */
  trackMessages: boolean;
  /** A send issued later than this after its scheduled time counts as late. */
  lateUs: number;
}

export interface TrafficResult {
  issued: number;
  /** Issued with a scheduled time inside the measurement window. */
  issuedInWindow: number;
  late: number;
  maxLateUs: number;
  /** Could not be issued: the sender's stream was not open. */
  skipped: number;
  maxInFlight: number;
}

export interface Tally {
  open: number;
  frames: number;
  events: number;
  duplicates: number;
  gaps: number;
  receipts: number;
  goAways: Record<string, number>;
  closes: Record<string, number>;
  sendErrors: Record<string, number>;
  streamErrors: Record<string, number>;
}

export type Command =
  | { kind: "open"; args: OpenCommand }
  | { kind: "traffic"; args: TrafficCommand }
  | { kind: "window"; args: { fromUs: number; toUs: number; trackMessages: boolean } }
  | { kind: "collect" }
  | { kind: "tally" }
  | { kind: "close"; args: { abrupt: boolean; devices?: number[] } }
  | { kind: "heartbeats"; args: { intervalMs: number } };

export interface CommandResults {
  open: OpenResult;
  traffic: TrafficResult;
  window: null;
  collect: RecorderSnapshot;
  tally: Tally;
  close: { closed: number };
  heartbeats: null;
}

export interface Request {
  id: number;
  command: Command;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
