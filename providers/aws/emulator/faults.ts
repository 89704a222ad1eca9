// Injected faults and latency per EC2 action: the kit's FaultTable with EC2's defaults (an
// InternalError; 503 for RequestLimitExceeded and Unavailable, 500 for internal errors, else 400).
import { FaultTable } from '../../kit/emulator/faults.ts';

export { parseFaultRule, type ActiveFault, type FaultHit, type FaultRule } from '../../kit/emulator/faults.ts';

function defaultStatus(code: string): number {
  if (code === 'RequestLimitExceeded' || code === 'Unavailable' || code === 'ServiceUnavailable') return 503;
  if (code === 'InternalError' || code === 'InternalFailure') return 500;
  return 400;
}

export class Faults extends FaultTable {
  constructor(random: () => number) {
    super(random, { code: 'InternalError', statusOf: defaultStatus });
  }
}
