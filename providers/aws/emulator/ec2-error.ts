// EC2 API errors raised by the emulator: a VpcnetError carrying the EC2 wire code and HTTP
// status in details, so the server can render the EC2 error envelope.
import { VpcnetError, type ErrorCode } from '../../../src/errors.ts';

export interface Ec2ErrorDetails {
  awsCode: string;
  httpStatus: number;
}

function projectCode(awsCode: string, status: number): ErrorCode {
  if (status === 503 || awsCode === 'RequestLimitExceeded') return 'CLOUD_THROTTLED';
  if (status === 401 || awsCode === 'AuthFailure') return 'CLOUD_AUTH';
  if (awsCode === 'UnauthorizedOperation') return 'CLOUD_PERMISSION_DENIED';
  if (awsCode.endsWith('.NotFound') || /^Invalid\w*(ID|Id)\.Malformed$/.test(awsCode)) return 'CLOUD_NOT_FOUND';
  if (awsCode === 'InvalidInstanceType') return 'UNKNOWN_INSTANCE_TYPE';
  if (awsCode === 'InsufficientFreeAddressesInSubnet' || awsCode === 'InsufficientCidrBlocks') return 'SUBNET_FULL';
  if (awsCode.endsWith('LimitExceeded')) return 'CLOUD_LIMIT_EXCEEDED';
  if (awsCode.endsWith('.InUse')) return 'CLOUD_CONFLICT';
  if (status >= 500) return 'CLOUD_UNAVAILABLE';
  return 'CLOUD_BAD_REQUEST';
}

export function ec2Error(awsCode: string, message: string, httpStatus = 400): VpcnetError {
  const details: Ec2ErrorDetails = { awsCode, httpStatus };
  return new VpcnetError(projectCode(awsCode, httpStatus), message, { details: { ...details } });
}

/** The EC2 code and status of an error thrown inside the emulator; anything unknown is a 500. */
export function ec2ErrorOf(err: unknown): Ec2ErrorDetails & { message: string } {
  if (err instanceof VpcnetError && typeof err.details.awsCode === 'string') {
    return { awsCode: err.details.awsCode, httpStatus: Number(err.details.httpStatus ?? 400), message: err.message };
  }
  return { awsCode: 'InternalError', httpStatus: 500, message: 'An internal error has occurred' };
}
