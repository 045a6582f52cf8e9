// Makes sure a Vault binary exists before `bun test`, so a first build never runs inside a 30 s test timeout.
import { findOrBuildVaultBinary } from './vault.ts';

const binary = await findOrBuildVaultBinary();
const version = Bun.spawnSync([binary, 'version'], { stdout: 'pipe', stderr: 'pipe' });
const label = version.success ? version.stdout.toString().trim() : 'version unknown';
console.log(`dev Vault binary: ${binary} (${label})`);
