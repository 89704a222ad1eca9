// An ARM error answer: HTTP status plus the CloudError body {"error": {"code", "message"}}.

export class ArmError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ArmError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const notFound = (type: string, name: string, rg: string): ArmError =>
  new ArmError(404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${rg}' was not found.`);
