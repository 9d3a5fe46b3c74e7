/** Where a deployment keeps its files. One folder; nothing outside it. */
import * as path from 'node:path';

export function layout(dir: string) {
  return {
    dir,
    config: path.join(dir, 'deployment.json'),
    keyFile: path.join(dir, 'keys', 'operator.key'),
    keysDir: path.join(dir, 'keys'),
    publicKey: path.join(dir, 'operator.pub'),
    systemDb: path.join(dir, 'system.db'),
    tenantsDir: path.join(dir, 'tenants'),
    tenantDb: (tenant: string) => path.join(dir, 'tenants', tenant, 'tenant.db'),
    tenantDir: (tenant: string) => path.join(dir, 'tenants', tenant),
  };
}
