// Certificates for the Kubernetes auth tests: a CA, a server certificate for 127.0.0.1 (the
// Azure emulator's openssl recipe) and client certificates signed by the same CA, as a
// cluster's CA signs kubelet and admin certificates. All files in one temporary directory.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCertificates, type EmulatorTls } from '../../providers/azure/emulator/tls.ts';

export interface ClientCert {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

export interface KubeTls extends EmulatorTls {
  client(cn: string): ClientCert;
}

export function makeKubeTls(): KubeTls {
  const t = makeCertificates(['127.0.0.1', 'localhost']);
  const f = (n: string): string => join(t.dir, n);
  return {
    ...t,
    client(cn) {
      const base = cn.replace(/[^a-z0-9]/gi, '_');
      writeFileSync(f(`${base}.ext`), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
      const run = (args: string[]): void => void execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${base}.key`), '-out', f(`${base}.csr`), '-subj', `/O=system:nodes/CN=${cn}`]);
      run(['x509', '-req', '-in', f(`${base}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${base}.pem`), '-days', '30', '-extfile', f(`${base}.ext`)]);
      return { cert: readFileSync(f(`${base}.pem`), 'utf8'), key: readFileSync(f(`${base}.key`), 'utf8'), certPath: f(`${base}.pem`), keyPath: f(`${base}.key`) };
    },
  };
}
