/** Validating a deployable's environment once, reporting every problem together. */
import type { z } from 'zod';

export function parseEnv<S extends z.ZodType>(schema: S, source: Record<string, string | undefined>, what: string): z.infer<S> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid ${what} configuration:\n${problems}`);
  }
  return parsed.data;
}
