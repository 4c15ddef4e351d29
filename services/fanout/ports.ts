// How fanout reaches device streams, wherever the gateway holding them runs.
import type { ConversationEvent, ReceiptUpdate } from "../../gen/parley/v1/events_pb.js";

/** What the gateways may know about an event beside it. */
export interface EventDelivery {
  /**
   * The conversation has more members than get receipts live (FanoutSettings
   * liveReceiptsMaxMembers): nobody watches its acks come in, so they may be recorded lazily.
   */
  receiptsNotLive?: boolean;
}

export interface DeliveryRouter {
  /**
   * Offers the event to every connected device of these users. Best effort: a device that misses
   * a live event gets it from storage (its stream notices the gap, or it resumes from its cursor).
   */
  deliverEvent(userIds: string[], event: ConversationEvent, delivery?: EventDelivery): Promise<void>;
  /** Offers a receipt update to every connected device of these users. */
  deliverReceipt(userIds: string[], receipt: ReceiptUpdate): Promise<void>;
  /** Ends every stream of a device that was signed out. */
  closeDevice(userId: string, deviceId: string): Promise<void>;
}
