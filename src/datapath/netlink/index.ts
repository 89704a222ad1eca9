// Public surface of the netlink wrapper (used by the routed and ipvlan datapaths and the lab).
export { Rtnl, errnoOf } from './rtnl.ts';
export { inNetns, inNetnsFd, netnsInode, openNetnsFd } from './netns.ts';
export { readSysctl, writeSysctl } from './sysctl.ts';
export * from './codec.ts';
export type * from './types.ts';
