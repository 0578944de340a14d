/**
 * How many of each provisioned version's `minWarm` containers this worker
 * keeps, so that no tenant can hold the worker's memory with them.
 * Provisioned containers are protected from eviction, so unbounded they
 * would let one namespace (two functions with a large `minWarm`) take the
 * whole budget and push every other tenant's calls onto cold starts, or
 * leave them no memory at all.
 *
 * Two caps: one namespace's provisioned containers hold at most
 * `namespaceShare` of the budget (default half: a tenant may reserve a lot,
 * never the worker), and all namespaces' together at most `totalShare`
 * (80%: a fifth of the worker always stays for unprovisioned calls, evicting
 * warm containers as needed). Within those caps containers are handed out
 * one at a time, round-robin across namespaces and then across each
 * namespace's versions, so a cut falls evenly rather than on whoever sorts
 * last. What is not allotted is neither started nor protected.
 */

export const DEFAULT_NAMESPACE_SHARE = 0.5;
export const PROVISIONED_TOTAL_SHARE = 0.8;

/** One provisioned version's wish. */
export interface ProvisionedDemand {
  key: string;
  namespace: string;
  memoryMb: number;
  minWarm: number;
}

export interface ProvisionedQuotaOptions {
  budgetMb: number;
  /** Fraction (0–1] of the budget one namespace's provisioned containers may hold. */
  namespaceShare: number;
  /** Fraction (0–1] of the budget all provisioned containers may hold together. */
  totalShare?: number;
}

/** Containers to keep per version key (at most its `minWarm`; 0 when nothing fits). */
export function allotProvisioned(demands: ProvisionedDemand[], options: ProvisionedQuotaOptions): Map<string, number> {
  const allotted = new Map<string, number>(demands.map((d) => [d.key, 0]));
  let totalLeft = Math.floor(options.budgetMb * Math.min(options.totalShare ?? PROVISIONED_TOTAL_SHARE, 1));
  const perNamespace = Math.floor(options.budgetMb * Math.min(options.namespaceShare, 1));
  const namespaces = new Map<string, { left: number; versions: ProvisionedDemand[]; next: number }>();
  for (const d of [...demands].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    if (d.minWarm <= 0 || d.memoryMb <= 0) continue;
    let ns = namespaces.get(d.namespace);
    if (!ns) {
      ns = { left: perNamespace, versions: [], next: 0 };
      namespaces.set(d.namespace, ns);
    }
    ns.versions.push(d);
  }
  const order = [...namespaces.keys()].sort();
  for (let progress = true; progress; ) {
    progress = false;
    for (const name of order) {
      const ns = namespaces.get(name)!;
      // This namespace's next version (in rotation) that still wants one and fits both caps.
      for (let tried = 0; tried < ns.versions.length; tried++) {
        const d = ns.versions[(ns.next + tried) % ns.versions.length]!;
        const have = allotted.get(d.key)!;
        if (have >= d.minWarm || d.memoryMb > ns.left || d.memoryMb > totalLeft) continue;
        allotted.set(d.key, have + 1);
        ns.left -= d.memoryMb;
        totalLeft -= d.memoryMb;
        ns.next = (ns.next + tried + 1) % ns.versions.length;
        progress = true;
        break;
      }
    }
  }
  return allotted;
}
