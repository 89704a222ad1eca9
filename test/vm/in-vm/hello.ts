import { execFileSync } from 'node:child_process';
console.log('VPCNET-RESULT ' + JSON.stringify({ name: 'hello', ok: true, ip: execFileSync('ip', ['-V'], { encoding: 'utf8' }).trim() }));
