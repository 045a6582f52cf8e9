// Starts one real Vault dev server for the whole `bun test` run; tests reach it through testVault().
import { afterAll } from 'bun:test';
import { setTestVault, startDevVault } from './vault.ts';

const vault = await startDevVault();
setTestVault(vault);

// Registered in the preload, so it runs once after every test file rather than after the first.
afterAll(async () => {
  setTestVault(undefined);
  await vault.stop();
});
