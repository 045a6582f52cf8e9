// Makes sure the binaries the tests need (the dev Vault, the test API server) exist before `bun test`, so a first build never runs inside a 30 s test timeout.
import { kubeApiBinaries } from '../deploy/kube-api.ts';
import { findOrBuildVaultBinary } from './vault.ts';

const binary = await findOrBuildVaultBinary();
const version = Bun.spawnSync([binary, 'version'], { stdout: 'pipe', stderr: 'pipe' });
const label = version.success ? version.stdout.toString().trim() : 'version unknown';
console.log(`dev Vault binary: ${binary} (${label})`);

// etcd and kube-apiserver for test/deploy/apiserver.test.ts: minutes to build the first time, so here rather than in a test.
if (Bun.which('go')) console.log(`test API server: ${(await kubeApiBinaries()).apiserver}`);
else console.log('no Go toolchain: test/deploy/apiserver.test.ts will be skipped');
