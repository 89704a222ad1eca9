// The error EC2 gives for an id it does not have: `.Malformed` when the id cannot be one of
// its kind (EC2 ids are prefix-xxxxxxxx or prefix-xxxxxxxxxxxxxxxxx, lowercase hex), else
// `.NotFound`. Checked only after the lookup failed, so scenarios may keep readable ids.
import { ec2Error } from './ec2-error.ts';
import type { VpcnetError } from '../../../src/errors.ts';

export type IdKind = 'eni' | 'subnet' | 'instance' | 'vpc' | 'attachment';

const KINDS: Record<IdKind, { prefix: string; code: string; noun: string }> = {
  eni: { prefix: 'eni', code: 'InvalidNetworkInterfaceID', noun: 'networkInterface' },
  subnet: { prefix: 'subnet', code: 'InvalidSubnetID', noun: 'subnet' },
  instance: { prefix: 'i', code: 'InvalidInstanceID', noun: 'instance' },
  vpc: { prefix: 'vpc', code: 'InvalidVpcID', noun: 'vpc' },
  attachment: { prefix: 'eni-attach', code: 'InvalidAttachmentID', noun: 'attachment' },
};

export function isWellFormedId(kind: IdKind, id: string): boolean {
  return new RegExp(`^${KINDS[kind].prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`).test(id);
}

export function missingId(kind: IdKind, id: string): VpcnetError {
  const k = KINDS[kind];
  if (!isWellFormedId(kind, id)) {
    // The attachment's malformed code has its own spelling on EC2.
    const code = kind === 'attachment' ? 'InvalidNetworkInterfaceAttachmentId.Malformed' : `${k.code}.Malformed`;
    return ec2Error(code, `Invalid id: "${id}" (expecting "${k.prefix}-...")`);
  }
  if (kind === 'attachment') return ec2Error('InvalidAttachmentID.NotFound', `Interface attachment '${id}' does not exist`);
  return ec2Error(`${k.code}.NotFound`, `The ${k.noun} ID '${id}' does not exist`);
}

/** Kind of a resource id by its prefix (CreateTags, DeleteTags, DescribeTags). */
export function kindOfId(id: string): IdKind | undefined {
  if (id.startsWith('eni-attach-')) return 'attachment';
  if (id.startsWith('eni-')) return 'eni';
  if (id.startsWith('subnet-')) return 'subnet';
  if (id.startsWith('i-')) return 'instance';
  if (id.startsWith('vpc-')) return 'vpc';
  return undefined;
}

/** Every code missingId() can answer (the docs' error table lists them; a test checks). */
export const ID_ERROR_CODES: readonly string[] = Object.entries(KINDS).flatMap(([kind, k]) =>
  kind === 'attachment' ? ['InvalidNetworkInterfaceAttachmentId.Malformed', 'InvalidAttachmentID.NotFound'] : [`${k.code}.Malformed`, `${k.code}.NotFound`],
);
