// Host-side names derived from the pod's identity, so that setup, teardown and the
// reconciler find the same interface without stored state.
import { createHash } from 'node:crypto';

export const HOST_VETH_PREFIX = 'eni';

/** "eni" + 11 hex chars of sha1(containerId/ifname): 14 chars, within IFNAMSIZ. */
export function hostVethName(containerId: string, ifname: string): string {
  return HOST_VETH_PREFIX + createHash('sha1').update(`${containerId}/${ifname}`).digest('hex').slice(0, 11);
}

/** True for names hostVethName() makes: the only host links the reconciler may remove. */
export function isHostVethName(name: string): boolean {
  return new RegExp(`^${HOST_VETH_PREFIX}[0-9a-f]{11}$`).test(name);
}

/** AWS convention: the NIC with device index N routes through table N + 1; the primary uses main. */
export function nicTable(deviceIndex: number): number {
  return deviceIndex === 0 ? 254 : deviceIndex + 1;
}
