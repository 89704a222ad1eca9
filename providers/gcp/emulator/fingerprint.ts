// Fingerprints are `bytes` fields: JSON carries them base64-encoded, and clients re-encode them
// as they like (gcloud's apitools writes the URL-safe alphabet). GCE compares the decoded bytes,
// so the emulator does too.
import { invalid } from './gce-error.ts';

const B64 = /^(?:[A-Za-z0-9+/]|[A-Za-z0-9_-])*={0,2}$/;

/** The bytes of a base64 string in either alphabet, padded or not; undefined if it is not base64. */
export function fingerprintBytes(text: string): Buffer | undefined {
  if (!B64.test(text)) return undefined;
  const bare = text.replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  if (text.length !== bare.length && text.length % 4 !== 0) return undefined;
  return Buffer.from(bare.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** True when `sent` names the same bytes as `current`; a 400 when `sent` is not base64 at all. */
export function sameFingerprint(sent: string, current: string, field = 'resource.fingerprint'): boolean {
  const got = fingerprintBytes(sent);
  if (!got) throw invalid(field, sent, 'Base64 decoding failed.');
  const want = fingerprintBytes(current);
  return want !== undefined && got.equals(want);
}
