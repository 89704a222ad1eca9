// Durable pool state. FileCheckpointStore writes atomically (temp file in the same directory,
// fsync, rename, fsync the directory), so a crash leaves either the old or the new file.
// A file that fails validation is reported and left exactly as it is.
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VpcnetError } from '../errors.ts';
import { CHECKPOINT_READERS, CHECKPOINT_VERSION, envelopeHeadSchema } from './checkpoint-schema.ts';
import type { CheckpointData } from './types.ts';

export interface CheckpointStore {
  /** The last committed data; null when nothing was ever committed. Throws on a bad file. */
  load(): Promise<CheckpointData | null>;
  /** Durably replaces the stored data; resolves once it survives a crash. Callers do not overlap calls (CommitQueue serializes them). */
  commit(data: CheckpointData): Promise<void>;
}

export interface CheckpointEnvelope {
  version: number;
  writtenAt: number;
  data: CheckpointData;
  /** Set when the file was written by an older version and migrated on load (the next commit writes today's). */
  migratedFrom?: number;
}

export class FileCheckpointStore implements CheckpointStore {
  readonly path: string;
  private readonly now: () => number;
  private seq = 0;

  constructor(path: string, opts: { now?: () => number } = {}) {
    this.path = path;
    this.now = opts.now ?? Date.now;
  }

  async load(): Promise<CheckpointData | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new VpcnetError('CHECKPOINT_IO', `cannot read checkpoint ${this.path}`, { cause: err, details: { path: this.path } });
    }
    return parseEnvelope(text, this.path).data;
  }

  async commit(data: CheckpointData): Promise<void> {
    const envelope: CheckpointEnvelope = { version: CHECKPOINT_VERSION, writtenAt: this.now(), data };
    const dir = dirname(this.path);
    const tmp = join(dir, `.${basename(this.path)}.${process.pid}.${++this.seq}.tmp`);
    try {
      await mkdir(dir, { recursive: true });
      await writeSynced(tmp, `${JSON.stringify(envelope)}\n`);
      await rename(tmp, this.path);
      await syncDir(dir);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new VpcnetError('CHECKPOINT_IO', `cannot write checkpoint ${this.path}`, { cause: err, details: { path: this.path } });
    }
  }
}

export function parseEnvelope(text: string, path: string): CheckpointEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw corrupt(path, 'not JSON', err);
  }
  const head = envelopeHeadSchema.safeParse(raw);
  if (!head.success) throw corrupt(path, 'no version field', head.error);
  if (head.data.version > CHECKPOINT_VERSION) {
    throw new VpcnetError(
      'CHECKPOINT_VERSION',
      `checkpoint ${path} has version ${head.data.version}, newer than ${CHECKPOINT_VERSION} that this agent reads; refusing to start (a downgrade needs the file moved away by hand)`,
      { details: { path, version: head.data.version, supported: CHECKPOINT_VERSION } },
    );
  }
  const reader = CHECKPOINT_READERS[head.data.version];
  if (!reader) throw corrupt(path, `unknown version ${head.data.version}`, head.data);
  const parsed = reader.schema.safeParse(raw);
  if (!parsed.success) throw corrupt(path, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), parsed.error);
  const data = reader.migrate(parsed.data.data as never);
  const migrated = parsed.data.version !== CHECKPOINT_VERSION ? { migratedFrom: parsed.data.version } : {};
  return { version: CHECKPOINT_VERSION, writtenAt: parsed.data.writtenAt, data, ...migrated };
}

function corrupt(path: string, why: string, cause: unknown): VpcnetError {
  return new VpcnetError('CHECKPOINT_CORRUPT', `checkpoint ${path} is corrupt (${why}); it was left untouched`, {
    cause,
    details: { path },
  });
}

async function writeSynced(path: string, text: string): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * In-memory store for tests. Keeps JSON copies (so later mutation cannot leak in) and can
 * simulate a crash: `crashAfter(n)` lets n more commits land, then every commit throws
 * without storing, as if the process died before the write reached disk.
 */
export class MemoryCheckpointStore implements CheckpointStore {
  private stored: string | null = null;
  private commitsLeft = Number.POSITIVE_INFINITY;
  commits = 0;

  constructor(initial?: CheckpointData) {
    if (initial) this.stored = JSON.stringify(initial);
  }

  async load(): Promise<CheckpointData | null> {
    return this.stored === null ? null : (JSON.parse(this.stored) as CheckpointData);
  }

  async commit(data: CheckpointData): Promise<void> {
    if (this.commitsLeft <= 0) throw new VpcnetError('CHECKPOINT_IO', 'simulated crash: commit not stored');
    this.commitsLeft--;
    this.stored = JSON.stringify(data);
    this.commits++;
  }

  crashAfter(commits: number): void {
    this.commitsLeft = commits;
  }

  /** What a restarted agent would read. */
  snapshot(): CheckpointData | null {
    return this.stored === null ? null : (JSON.parse(this.stored) as CheckpointData);
  }
}
