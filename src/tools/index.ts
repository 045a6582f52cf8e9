// The wiring list: every tool the server offers, grouped by Vault engine. A tool not listed here is not served.
import { generateSecret } from "./generate.ts";
import { identityTools } from "./identity.ts";
import { kvTools } from "./kv.ts";
import { kvLifecycleTools } from "./kv-lifecycle.ts";
import { mountTools } from "./mounts.ts";
import { pkiTools } from "./pki.ts";
import { policyTools } from "./policies.ts";
import { pkiCertificateTools } from "./pki-certificates.ts";
import { pkiIssuerAdminTools } from "./pki-issuer-admin.ts";
import type { ToolDefinition } from "./registry.ts";
import { sysTools } from "./sys.ts";
import { transitKeyTools } from "./transit.ts";
import { transitDataTools } from "./transit-data.ts";

export const allTools: readonly ToolDefinition<any, any>[] = [...mountTools, ...kvTools, ...kvLifecycleTools, generateSecret, ...pkiTools, ...pkiCertificateTools, ...pkiIssuerAdminTools, ...transitKeyTools, ...transitDataTools, ...policyTools, ...identityTools, ...sysTools];
