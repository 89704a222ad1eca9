// Compute API errors: the HTTP envelope ({error: {code, errors: [{domain, reason, message}],
// message}}) and the error inside a DONE operation ({errors: [{code, message}]} with
// httpErrorStatusCode/httpErrorMessage). Shapes: ../shared/cloud-payloads/gce.
export class GceApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly domain: string;
  /** A google.rpc.ErrorInfo detail, as GCE adds to quota errors ({reason: RATE_LIMIT_EXCEEDED}). */
  readonly errorInfo: { reason: string; domain: string; metadata: Record<string, string> } | undefined;

  constructor(status: number, reason: string, message: string, domain = 'global', errorInfo?: GceApiError['errorInfo']) {
    super(message);
    this.name = 'GceApiError';
    this.status = status;
    this.reason = reason;
    this.domain = domain;
    this.errorInfo = errorInfo;
  }
}

/** An error that surfaces inside a DONE operation, not as the HTTP status of the call. */
export interface OperationError {
  code: string;
  message: string;
  httpStatus: number;
}

const HTTP_MESSAGES: Record<number, string> = {
  400: 'BAD REQUEST',
  403: 'FORBIDDEN',
  404: 'NOT FOUND',
  409: 'CONFLICT',
  412: 'PRECONDITION FAILED',
  429: 'TOO MANY REQUESTS',
  500: 'INTERNAL SERVER ERROR',
  503: 'SERVICE UNAVAILABLE',
};

export function httpMessageOf(status: number): string {
  return HTTP_MESSAGES[status] ?? 'ERROR';
}

export function errorEnvelope(err: GceApiError): Record<string, unknown> {
  return {
    error: {
      code: err.status,
      message: err.message,
      errors: [{ domain: err.domain, reason: err.reason, message: err.message }],
      ...(err.errorInfo ? { details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', ...err.errorInfo }] } : {}),
    },
  };
}

export const notFound = (what: string): GceApiError => new GceApiError(404, 'notFound', `The resource '${what}' was not found`);
export const invalid = (field: string, value: string, why: string): GceApiError =>
  new GceApiError(400, 'invalid', `Invalid value for field '${field}': '${value}'. ${why}`);
export const required = (field: string): GceApiError => new GceApiError(400, 'required', `Required field '${field}' not specified`);
