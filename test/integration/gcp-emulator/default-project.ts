// The emulator with its default project (what `vpcnet emulator gcp` serves without a scenario),
// and client options for the real @google-cloud/compute SDK against it.
import { OAuth2Client } from 'google-auth-library';
import { DEFAULT_SCENARIO, GcpEmulator, type GcpEmulatorOptions } from '../../../providers/gcp/emulator/index.ts';

export const PROJECT = 'vpcnet-demo';

export interface DefaultProject {
  emu: GcpEmulator;
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** .../compute/v1/projects/vpcnet-demo */
  api: string;
  /** Options for compute.*Client: REST over http with a fixed bearer token. */
  sdk: { apiEndpoint: string; port: number; protocol: string; authClient: OAuth2Client; fallback: true };
}

export async function startDefaultProject(opts: GcpEmulatorOptions = {}): Promise<DefaultProject> {
  const emu = new GcpEmulator({ auth: 'any', ...opts });
  emu.applyScenario(DEFAULT_SCENARIO);
  const endpoint = await emu.start();
  const url = new URL(endpoint);
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'ya29.test', expiry_date: Date.now() + 3_600_000 });
  return { emu, endpoint, api: `${endpoint}/compute/v1/projects/${PROJECT}`, sdk: { apiEndpoint: url.hostname, port: Number(url.port), protocol: 'http', authClient, fallback: true } };
}

export const AUTH = { authorization: 'Bearer ya29.test' };
