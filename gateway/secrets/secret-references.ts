/** The deploy's check of the secrets a version references: every one must exist in the caller's namespace. */
import { HearthError } from '../errors.ts';
import type { SecretService } from './secret-service.ts';

/** 404 `SecretNotFound` naming the missing ones; a gateway without secrets refuses any reference. */
export async function assertSecretsExist(secrets: SecretService | undefined, namespace: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  if (!secrets) throw new HearthError('SecretNotFound', `this gateway has no secrets: the version references ${names.map((n) => `"${n}"`).join(', ')}`);
  await secrets.assertExist(namespace, names);
}
