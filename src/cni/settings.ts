// CNI handler settings from the agent config.
import type { VpcnetConfig } from '../config/schema.ts';
import type { CniSettings } from './types.ts';

/** `nicMtu` is the primary NIC's MTU, the pod MTU unless the config sets one. */
export function cniSettingsFrom(config: VpcnetConfig, nicMtu: number): CniSettings {
  return {
    mode: config.datapath.mode,
    mtu: config.datapath.mtu ?? nicMtu,
    addDeadlineMs: config.cni.addDeadlineMs,
    gcGraceMs: config.cni.gcGraceMs,
    netnsPathPrefixes: config.cni.netnsPathPrefixes,
  };
}
