/** Trigger statuses in memory (the `TriggerStatusBoard` contract), for API tests. */
import type { TriggerStatusBoard } from '../../../gateway/triggers/trigger-leases.ts';
import type { TriggerStatus } from '../../../gateway/triggers/trigger-record.ts';

export function createTriggerStatusBoardInMemory(): TriggerStatusBoard {
  const statuses = new Map<string, Partial<TriggerStatus>>();
  return {
    async update(id, patch) {
      statuses.set(id, { ...statuses.get(id), ...patch });
    },
    async read(ids) {
      return new Map(ids.flatMap((id) => (statuses.has(id) ? [[id, statuses.get(id)!] as const] : [])));
    },
    async clear(id) {
      statuses.delete(id);
    },
  };
}
