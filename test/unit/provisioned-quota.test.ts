import { describe, expect, it } from 'vitest';
import { allotProvisioned, type ProvisionedDemand } from '../../worker/pool/provisioned-quota.ts';
import { cpuCeiling } from '../../worker/engine/cpu-limit.ts';
import { procMeminfo, procStat } from '../../worker/engine/proc-files.ts';

const demand = (key: string, namespace: string, memoryMb: number, minWarm: number): ProvisionedDemand => ({ key, namespace, memoryMb, minWarm });
const held = (allotted: Map<string, number>, demands: ProvisionedDemand[], namespace?: string) =>
  demands.filter((d) => namespace === undefined || d.namespace === namespace).reduce((mb, d) => mb + (allotted.get(d.key) ?? 0) * d.memoryMb, 0);

describe('provisioned quota', () => {
  it('keeps every minWarm when it fits the shares', () => {
    const demands = [demand('a@1', 'a', 128, 2), demand('b@1', 'b', 256, 1)];
    const allotted = allotProvisioned(demands, { budgetMb: 4096, namespaceShare: 0.5 });
    expect(Object.fromEntries(allotted)).toEqual({ 'a@1': 2, 'b@1': 1 });
  });

  it('caps one namespace at its share of the budget, however many functions it provisions', () => {
    // The finding: two functions of one tenant with large minWarm asked for nearly all of a 19 GB budget.
    const demands = [demand('t@big1', 'tenant', 3008, 4), demand('t@big2', 'tenant', 3008, 3), demand('o@1', 'other', 128, 2)];
    const budgetMb = 19_456;
    const allotted = allotProvisioned(demands, { budgetMb, namespaceShare: 0.5 });
    expect(held(allotted, demands, 'tenant')).toBeLessThanOrEqual(budgetMb / 2);
    // Cut evenly between the tenant's two functions, not all from one.
    expect(Math.abs(allotted.get('t@big1')! - allotted.get('t@big2')!)).toBeLessThanOrEqual(1);
    expect(allotted.get('o@1')).toBe(2);
  });

  it('leaves a fifth of the budget unprovisioned even when many namespaces each stay within their share', () => {
    const demands = ['a', 'b', 'c', 'd'].map((ns) => demand(`${ns}@1`, ns, 128, 100));
    const allotted = allotProvisioned(demands, { budgetMb: 2048, namespaceShare: 0.5 });
    expect(held(allotted, demands)).toBeLessThanOrEqual(2048 * 0.8);
    const counts = demands.map((d) => allotted.get(d.key)!);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('skips a version too large for what is left and still fills smaller ones', () => {
    const demands = [demand('a@big', 'a', 1024, 1), demand('a@small', 'a', 128, 3)];
    const allotted = allotProvisioned(demands, { budgetMb: 1024, namespaceShare: 0.5 });
    expect(allotted.get('a@big')).toBe(0);
    expect(allotted.get('a@small')).toBe(3);
  });
});

describe('cpu ceiling', () => {
  it('is proportional to memory as on Lambda, between the floor and the host', () => {
    expect(cpuCeiling(128, { floorCpus: 0.5, hostCpus: 2 })).toBe(0.5);
    expect(cpuCeiling(1769, { floorCpus: 0.5, hostCpus: 2 })).toBe(1);
    expect(cpuCeiling(2654, { floorCpus: 0.5, hostCpus: 2 })).toBe(1.5);
    expect(cpuCeiling(10_240, { floorCpus: 0.5, hostCpus: 2 })).toBe(2);
  });
});

describe('/proc stand-ins', () => {
  it('list one idle cpu per host core and the container limit as the machine', () => {
    const stat = procStat(2);
    expect(stat.split('\n').filter((l) => /^cpu\d/.test(l))).toHaveLength(2);
    expect(stat).toMatch(/^btime 0$/m);
    expect(procMeminfo(128)).toMatch(/^MemTotal:\s+131072 kB$/m);
  });
});
