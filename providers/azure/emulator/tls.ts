// The emulator's certificate: a CA and a server certificate for 127.0.0.1/localhost signed by
// it, made with openssl at start. Node has no X.509 writer; openssl is on every build machine
// (Debian's openssl package). The CA file is what clients pass as tlsOptions.ca.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VpcnetError } from '../../../src/errors.ts';

export interface EmulatorTls {
  key: string;
  cert: string;
  ca: string;
  caPath: string;
  dir: string;
}

export function makeCertificates(hosts: string[] = ['127.0.0.1', 'localhost'], dir = mkdtempSync(join(tmpdir(), 'vpcnet-azure-emu-'))): EmulatorTls {
  const f = (n: string): string => join(dir, n);
  const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  writeFileSync(f('server.ext'), `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  const run = (args: string[]): void => {
    try {
      execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new VpcnetError('INTERNAL', 'openssl could not make the emulator certificate (is openssl installed?)', { cause: err });
    }
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '30', '-subj', '/CN=vpcnet azure emulator CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=vpcnet azure emulator']);
  run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '30', '-extfile', f('server.ext')]);
  return { key: readFileSync(f('server.key'), 'utf8'), cert: readFileSync(f('server.pem'), 'utf8'), ca: readFileSync(f('ca.pem'), 'utf8'), caPath: f('ca.pem'), dir };
}
