// Runs the push store contract against every push store adapter, and the ConnectedDevices
// contract over every route registry (memory, and Redis with PARLEY_ENGINES=1).
import { connectedDevicesContract, pushStoresContract } from "./push.contract.ts";
import { pushAdapters, routeAdapters } from "./registry.ts";

for (const { name, make, options } of pushAdapters) pushStoresContract(name, make, options?.PushStores);
for (const { name, make } of routeAdapters) connectedDevicesContract(`routes: ${name}`, make);
