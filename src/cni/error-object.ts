// Turns any failure into the spec's error object {cniVersion, code, msg, details}.
import { cniCodeOf, toVpcnetError } from '../errors.ts';
import type { CniResponse } from './types.ts';

export interface CniErrorObject {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export function cniErrorObject(err: unknown, version: string): CniErrorObject {
  const e = toVpcnetError(err);
  const out: CniErrorObject = { cniVersion: version, code: cniCodeOf(e.code), msg: e.message };
  const details = Object.keys(e.details).length > 0 ? { error: e.code, ...e.details } : { error: e.code };
  out.details = JSON.stringify(details);
  return out;
}

export function errorResponse(err: unknown, version: string): CniResponse {
  return { exitCode: 1, stdout: `${JSON.stringify(cniErrorObject(err, version))}\n` };
}
