// Kubeconfig exec credential plugins (client.authentication.k8s.io v1 and v1beta1), e.g.
// `aws eks get-token`: run the command, read an ExecCredential from its stdout, cache it until
// its expirationTimestamp (or until the server answers 401 when it has none), one run at a time.
import { execFile } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import { VpcnetError } from '../errors.ts';
import type { KubeCredentials, RequestAuth } from './kube-credentials.ts';

export interface ExecConfig {
  apiVersion?: unknown;
  command?: unknown;
  args?: unknown;
  env?: unknown;
  installHint?: unknown;
  provideClusterInfo?: unknown;
  interactiveMode?: unknown;
}

export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];
/** A plugin that has not answered by then is treated as failed (the loops retry with backoff). */
export const EXEC_TIMEOUT_MS = 30_000;
/** Run the plugin again this long before the credential expires, so no request carries a dead one. */
const EXPIRY_MARGIN_MS = 10_000;

export interface ExecContext {
  /** The kubeconfig, for messages. */
  path: string;
  /** Its directory: a command given with a slash resolves against it, as kubectl does. */
  base: string;
  now?: () => number;
  /** spec.cluster of KUBERNETES_EXEC_INFO, sent when the plugin sets provideClusterInfo. */
  cluster?: Record<string, unknown>;
}

const invalid = (ctx: ExecContext, message: string): VpcnetError =>
  new VpcnetError('CONFIG_INVALID', `kubeconfig ${ctx.path}: exec ${message}`, { details: { path: ctx.path, field: 'user.exec' } });

function validate(cfg: ExecConfig, ctx: ExecContext): { apiVersion: string; command: string; args: string[]; env: Record<string, string> } {
  const apiVersion = String(cfg.apiVersion ?? '');
  if (!EXEC_API_VERSIONS.includes(apiVersion)) throw invalid(ctx, `apiVersion "${apiVersion}" is not one of ${EXEC_API_VERSIONS.join(', ')}`);
  if (typeof cfg.command !== 'string' || cfg.command === '') throw invalid(ctx, 'has no command');
  if (cfg.interactiveMode === 'Always') throw invalid(ctx, 'needs an interactive terminal (interactiveMode: Always); the agent has none');
  const args = cfg.args === undefined ? [] : Array.isArray(cfg.args) ? cfg.args.map(String) : undefined;
  if (!args) throw invalid(ctx, 'args is not a list');
  const env: Record<string, string> = {};
  if (cfg.env !== undefined && cfg.env !== null) {
    if (!Array.isArray(cfg.env)) throw invalid(ctx, 'env is not a list');
    for (const e of cfg.env as { name?: unknown; value?: unknown }[]) {
      if (typeof e?.name !== 'string') throw invalid(ctx, 'env entry without a name');
      env[e.name] = String(e.value ?? '');
    }
  }
  const command = cfg.command.includes('/') && !isAbsolute(cfg.command) ? join(ctx.base, cfg.command) : cfg.command;
  return { apiVersion, command, args, env };
}

function run(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    // The plugin inherits the agent's environment (AWS credentials, PATH), as with kubectl.
    execFile(command, args, { env: { ...process.env, ...env }, timeout: EXEC_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr: String(stderr) }));
      else resolve(String(stdout));
    });
  });
}

export function execCredentials(cfg: ExecConfig, ctx: ExecContext): KubeCredentials {
  const { apiVersion, command, args, env } = validate(cfg, ctx);
  const now = ctx.now ?? Date.now;
  const hint = typeof cfg.installHint === 'string' ? ` (${cfg.installHint.trim()})` : '';
  const info = JSON.stringify({
    apiVersion,
    kind: 'ExecCredential',
    spec: { interactive: false, ...(cfg.provideClusterInfo === true && ctx.cluster ? { cluster: ctx.cluster } : {}) },
  });
  let cached: { auth: RequestAuth; expiresAt: number } | undefined;
  let pending: Promise<RequestAuth> | undefined;

  const fetchOnce = async (): Promise<RequestAuth> => {
    let out: string;
    try {
      out = await run(command, args, { ...env, KUBERNETES_EXEC_INFO: info });
    } catch (err) {
      const e = err as { code?: unknown; stderr?: string; killed?: boolean };
      const why =
        e.code === 'ENOENT' ? `not found${hint}` : e.killed ? `did not answer within ${EXEC_TIMEOUT_MS} ms` : `failed: ${(e.stderr ?? '').trim().split('\n')[0] || String(e.code)}`;
      throw new VpcnetError('K8S_UNAVAILABLE', `kubeconfig exec plugin ${command} ${why}`, { cause: err, retryable: true, details: { command } });
    }
    let cred: { apiVersion?: unknown; status?: Record<string, unknown> };
    try {
      cred = JSON.parse(out) as typeof cred;
    } catch (err) {
      throw new VpcnetError('K8S_UNAVAILABLE', `kubeconfig exec plugin ${command} printed no ExecCredential JSON`, { cause: err, retryable: true, details: { command } });
    }
    const s = cred.status ?? {};
    if (cred.apiVersion !== apiVersion || (typeof s['token'] !== 'string' && typeof s['clientCertificateData'] !== 'string')) {
      throw new VpcnetError('K8S_UNAVAILABLE', `kubeconfig exec plugin ${command} answered no ${apiVersion} credential`, { retryable: true, details: { command, apiVersion: String(cred.apiVersion) } });
    }
    const auth: RequestAuth = {
      ...(typeof s['token'] === 'string' ? { token: s['token'] } : {}),
      ...(typeof s['clientCertificateData'] === 'string' && typeof s['clientKeyData'] === 'string'
        ? { cert: s['clientCertificateData'], key: s['clientKeyData'] }
        : {}),
    };
    const exp = typeof s['expirationTimestamp'] === 'string' ? Date.parse(s['expirationTimestamp']) : NaN;
    cached = { auth, expiresAt: Number.isFinite(exp) ? exp - EXPIRY_MARGIN_MS : Infinity };
    return auth;
  };

  return {
    get() {
      if (cached && now() < cached.expiresAt) return Promise.resolve(cached.auth);
      pending ??= fetchOnce().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
