/** The column type of a version's environment: sealed at rest (`worker/common/stored-env.ts`), the plain object in code. */
import { customType } from 'drizzle-orm/pg-core';
import { openStoredEnv, sealEnvForStore } from '../worker/common/stored-env.ts';

export const storedEnv = customType<{ data: Record<string, string>; driverData: unknown }>({
  dataType: () => 'jsonb',
  toDriver: (env) => JSON.stringify(sealEnvForStore(env)),
  fromDriver: (stored) => openStoredEnv(typeof stored === 'string' ? JSON.parse(stored) : stored),
});
