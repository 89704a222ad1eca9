// Kept only so that providers/contract (another branch's file) keeps compiling until it
// imports src/util/ip.ts, the one address module. Add nothing here.
export { intToIp, ipToInt } from './ip.ts';
