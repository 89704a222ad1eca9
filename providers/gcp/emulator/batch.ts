// The Compute batch endpoint (POST /batch/compute/v1): a multipart/mixed body whose parts are
// `application/http` requests, answered by a multipart/mixed body of `application/http`
// responses, each with `Content-ID: <response-ID>` for the part's `<ID>`. gcloud (apitools)
// writes LF line ends and leaves the blank line out after the headers of a bodiless request;
// Google's answer uses CRLF. Both are read here.
import { randomBytes } from 'node:crypto';
import { GceApiError } from './gce-error.ts';

export interface BatchPart {
  contentId: string | undefined;
  verb: string;
  /** Path and query, e.g. /compute/v1/projects/p/zones/z/instances?maxResults=500. */
  target: string;
  headers: Record<string, string>;
  body: string;
}

/** Google's limit on the calls in one batch. */
export const MAX_BATCH_PARTS = 1000;

function boundaryOf(contentType: string | undefined): string {
  const m = /^multipart\/mixed\s*;.*\bboundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? '');
  const b = m?.[1] ?? m?.[2];
  if (!b) throw new GceApiError(400, 'badRequest', 'Batch requests must be multipart/mixed with a boundary.');
  return b;
}

/** Headers up to the first blank line (or the end); names lower-cased. */
function splitHead(text: string): { headers: Record<string, string>; rest: string; firstLine?: string } {
  const m = /\r?\n\r?\n/.exec(text);
  const head = m ? text.slice(0, m.index) : text;
  const rest = m ? text.slice(m.index + m[0].length) : '';
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, rest };
}

export function parseBatch(contentType: string | undefined, text: string): BatchPart[] {
  const boundary = boundaryOf(contentType);
  const delimiter = `--${boundary}`;
  const chunks = text.split(delimiter);
  const parts: BatchPart[] = [];
  // chunks[0] is the preamble; the chunk after the closing delimiter starts with "--"
  for (const raw of chunks.slice(1)) {
    if (raw.startsWith('--')) break;
    const chunk = raw.replace(/^[ \t]*\r?\n/, '').replace(/\r?\n$/, '');
    const outer = splitHead(chunk);
    if (!/^application\/http\b/i.test(outer.headers['content-type'] ?? '')) {
      throw new GceApiError(400, 'badRequest', 'Each part of a batch request must be Content-Type: application/http.');
    }
    const nl = /\r?\n/.exec(outer.rest);
    const requestLine = nl ? outer.rest.slice(0, nl.index) : outer.rest;
    const m = /^([A-Z]+)\s+(\S+)(?:\s+HTTP\/\d(?:\.\d)?)?$/.exec(requestLine.trim());
    if (!m) throw new GceApiError(400, 'badRequest', `Invalid request line in batch part: '${requestLine.slice(0, 100)}'.`);
    const inner = splitHead(nl ? outer.rest.slice(nl.index + nl[0].length) : '');
    parts.push({
      contentId: outer.headers['content-id'],
      verb: m[1] as string,
      target: (m[2] as string).replace(/^https?:\/\/[^/]+/, ''),
      headers: inner.headers,
      body: inner.rest,
    });
  }
  if (parts.length === 0) throw new GceApiError(400, 'badRequest', 'The batch request has no parts.');
  if (parts.length > MAX_BATCH_PARTS) throw new GceApiError(400, 'badRequest', `A batch request may carry at most ${MAX_BATCH_PARTS} calls.`);
  return parts;
}

const REASONS: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 412: 'Precondition Failed', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable' };

/** The multipart/mixed answer: one application/http part per call, in the order of the request. */
export function renderBatch(answers: { contentId: string | undefined; status: number; body: unknown }[]): { contentType: string; body: string } {
  const boundary = `batch_${randomBytes(12).toString('base64url')}`;
  const out: string[] = [];
  for (const a of answers) {
    const id = a.contentId ? a.contentId.replace(/^<(.*)>$/, '<response-$1>') : undefined;
    const json = JSON.stringify(a.body);
    out.push(
      `--${boundary}\r\nContent-Type: application/http\r\n${id ? `Content-ID: ${id}\r\n` : ''}\r\n` +
        `HTTP/1.1 ${a.status} ${REASONS[a.status] ?? 'Error'}\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}\r\n`,
    );
  }
  out.push(`--${boundary}--\r\n`);
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: out.join('') };
}
