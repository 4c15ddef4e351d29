// Runs the identity port contracts against every registered identity adapter.
import {
  deviceStoreContract,
  loginCodeStoreContract,
  refreshTokenStoreContract,
  userStoreContract,
} from "./identity.contract.ts";
import { identityAdapters } from "./registry.ts";

for (const { name, make, options } of identityAdapters) {
  userStoreContract(name, make, options?.UserStore);
  loginCodeStoreContract(name, make, options?.LoginCodeStore);
  deviceStoreContract(name, make, options?.DeviceStore);
  refreshTokenStoreContract(name, make, options?.RefreshTokenStore);
}
