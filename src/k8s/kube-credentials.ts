// What a request to the API server authenticates with, and where it comes from (the service
// account, a kubeconfig, an exec plugin): shared by the loader and the transport.
/** What one request carries: a bearer token and/or a client certificate (PEM), and the CA to verify the server with. */
export interface RequestAuth {
  token?: string;
  basic?: string;
  cert?: string;
  key?: string;
  ca?: string;
}

export interface KubeCredentials {
  get(): Promise<RequestAuth>;
  /** The server answered 401: forget cached credentials so the next get() fetches new ones. */
  invalidate(): void;
}
