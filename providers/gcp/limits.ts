// GCE node limits: one pod range per node. Max pods follow GKE's table (a range holds twice the
// pods: /24 -> up to 128, GKE's default 110; /23 -> 256; /25 -> 64; /28 -> 8), so a node never
// runs more pods than half its range and a released address can cool down before reuse.
export const GCE_NIC_MTU = 1460;

/** GKE's default and kubelet's: 110 pods on a /24. */
const DEFAULT_MAX_PODS_24 = 110;

export function maxPodsForRange(prefixLength: number): number {
  const half = 2 ** (32 - prefixLength) / 2;
  return prefixLength === 24 ? DEFAULT_MAX_PODS_24 : Math.max(1, Math.min(256, half));
}
