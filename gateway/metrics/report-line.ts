/** Lambda-style one-line report for an invocation, as shown under its logs. */
export function reportLine(r: {
  id: string;
  durationMs: number;
  billedMs: number;
  memoryMb: number;
  initMs: number;
  startKind: string;
  status: string;
}): string {
  const parts = [
    `REPORT RequestId: ${r.id}`,
    `Duration: ${r.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${r.billedMs} ms`,
    `Memory Size: ${r.memoryMb} MB`,
  ];
  if (r.startKind !== 'warm' && r.status !== 'throttled') parts.push(`Init Duration: ${r.initMs.toFixed(2)} ms`);
  parts.push(`Start: ${r.startKind}`, `Status: ${r.status}`);
  return parts.join('\t');
}
