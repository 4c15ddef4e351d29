// Runs the presence contracts against every registered adapter.
import { presenceSettingsContract, presenceStoreContract, signalBusContract } from "./presence.contract.ts";
import { presenceSettingsAdapters, presenceStoreAdapters, signalBusAdapters } from "./registry.ts";

for (const { name, make, options } of presenceStoreAdapters) presenceStoreContract(name, make, options?.PresenceStore);
for (const { name, make, options } of signalBusAdapters) signalBusContract(name, make, options?.SignalBus);
for (const { name, make, options } of presenceSettingsAdapters)
  presenceSettingsContract(name, make, options?.PresenceSettingsStore);
