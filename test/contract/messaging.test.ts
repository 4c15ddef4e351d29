// Runs the messaging port contracts against every registered messaging adapter.
import {
  groupRetentionContract,
  groupStateContract,
  inviteLinkStoreContract,
  joinRequestStoreContract,
} from "./groups.contract.ts";
import { conversationStoreContract, eventLogContract, receiptStoreContract } from "./messaging.contract.ts";
import { messagingAdapters } from "./registry.ts";

for (const { name, make, options } of messagingAdapters) {
  conversationStoreContract(name, make, options?.ConversationStore);
  eventLogContract(name, make, options?.EventLog);
  receiptStoreContract(name, make, options?.ReceiptStore);
  groupStateContract(name, make, options?.GroupState);
  inviteLinkStoreContract(name, make, options?.InviteLinkStore);
  joinRequestStoreContract(name, make, options?.JoinRequestStore);
  groupRetentionContract(name, make, options?.GroupRetention);
}
