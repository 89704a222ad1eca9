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

/** ARM's answer for any path under a resource group that does not exist. */
export const resourceGroupNotFound = (rg: string): ArmError => new ArmError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);

/** Namespaces the emulated subscription has registered. */
const MODELLED_NAMESPACES = ['microsoft.network', 'microsoft.compute'];

/**
 * ARM's answer for a provider path this emulator does not model: an unregistered namespace is
 * 409 MissingSubscriptionRegistration, an unknown resource type 404 InvalidResourceType (never an
 * empty success, so a client cannot mistake "not modelled" for "none").
 */
export function unmodelled(providerPath: string, apiVersion: string): ArmError {
  const parts = providerPath.split('/').filter((x) => x !== '');
  const namespace = parts[0] ?? '';
  if (!MODELLED_NAMESPACES.includes(namespace.toLowerCase())) {
    return new ArmError(409, 'MissingSubscriptionRegistration', `The subscription is not registered to use namespace '${namespace}'. See https://aka.ms/rps-not-found for how to register subscriptions.`);
  }
  const type = parts.slice(1).filter((_, i) => i % 2 === 0).join('/');
  return new ArmError(404, 'InvalidResourceType', `The resource type '${type}' could not be found in the namespace '${namespace}' for api version '${apiVersion}'.`);
}
