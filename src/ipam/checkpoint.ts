// Durable pool state, in two files. <path>.journal makes a commit durable: its envelope (with a
// sequence number) is appended and fdatasync'd, one device flush. <path> always holds the whole
// state for readers: the same envelope replaces it by rename (atomic, but not flushed), so a
// killed agent, an operator or a test reading it sees the last commit. At a store's first commit
// and whenever the journal passes its limit, <path> is written durably (temp file, fsync,
// rename, fsync of the directory) and the journal emptied. load() takes whichever of <path> and
// the journal's last intact record has the higher sequence; a tie goes to <path> (a hand edit
// wins). No <path> means no state: a journal without its file is ignored and emptied.
import { close as closeCb, closeSync, constants as fsConstants, fdatasync as fdatasyncCb, fsync as fsyncCb, ftruncate as ftruncateCb, open as openCb, openSync, renameSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { VpcnetError } from '../errors.ts';
import { CHECKPOINT_READERS, CHECKPOINT_VERSION, envelopeHeadSchema } from './checkpoint-schema.ts';
import type { CheckpointData } from './types.ts';

export interface CheckpointStore {
  /** The last committed data; null when nothing was ever committed. Throws on a bad file. */
  load(): Promise<CheckpointData | null>;
  /** Durably replaces the stored data; resolves once it survives a crash. Callers do not overlap calls (CommitQueue serializes them). */
  commit(data: CheckpointData): Promise<void>;
  /** Releases open files; a later commit opens them again. */
  close?(): Promise<void>;
}

export interface CheckpointEnvelope {
  version: number;
  writtenAt: number;
  /** Commit sequence number (0 in files written before version 3). */
  seq: number;
  data: CheckpointData;
  /** Set when the file was written by an older version and migrated on load (the next commit writes today's). */
  migratedFrom?: number;
}

/** Past this the journal is folded into a durable <path> and emptied (~80 commits of 200 pods). */
export const JOURNAL_LIMIT_BYTES = 4 * 1024 * 1024;

// Plain descriptors, not FileHandles: these live as long as the store and must not be closed by GC.
const openFd = promisify(openCb);
const closeFd = promisify(closeCb);
const fdatasync = promisify(fdatasyncCb);
const fsync = promisify(fsyncCb);
const ftruncate = promisify(ftruncateCb);

const NEWLINE = Buffer.from('\n');

interface OpenFiles {
  journal: number;
  dir: number;
}

/** Appends the parts as one record (writev: the 50 KB state is not copied into a line buffer). */
function appendAllSync(fd: number, parts: Buffer[]): void {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const done = writevSync(fd, parts);
  if (done === total) return;
  const rest = Buffer.concat(parts).subarray(done);
  for (let off = 0; off < rest.length; ) off += writeSync(fd, rest, off);
}

/** Swaps two existing names atomically (renameat2 RENAME_EXCHANGE, the setns addon). */
export type RenameExchange = (a: string, b: string) => void;

/**
 * <path> replaced atomically for readers, not flushed (the journal record is the durable copy).
 * With `exchange` the new file and <path> swap names and the old content is unlinked: ext4
 * starts writeback of a file renamed over another (auto_da_alloc), a block-device submission
 * on the agent's thread and a second device write beside the journal's in every commit; an
 * exchange is a directory update only, and the unlinked old copy is never written. Returns
 * false when `exchange` cannot work here (no such syscall or filesystem support) so the caller
 * stops trying; a missing <path> just takes the plain rename.
 */
export function replaceFileSync(tmp: string, path: string, text: Buffer, exchange?: RenameExchange): boolean {
  const fd = openSync(tmp, 'w', 0o600);
  try {
    for (let off = 0; off < text.length; ) off += writeSync(fd, text, off);
  } finally {
    closeSync(fd);
  }
  if (exchange) {
    let swapped = false;
    try {
      exchange(tmp, path);
      swapped = true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EINVAL' || code === 'ENOSYS') {
        renameSync(tmp, path);
        return false;
      }
      if (code !== 'ENOENT') throw err;
    }
    if (swapped) {
      unlinkSync(tmp);
      return true;
    }
  }
  renameSync(tmp, path);
  return true;
}

export class FileCheckpointStore implements CheckpointStore {
  readonly path: string;
  readonly journalPath: string;
  private readonly now: () => number;
  private readonly journalLimit: number;
  private readonly warn: (msg: string, details: Record<string, unknown>) => void;
  /** How <path> is replaced in a journalled commit; dropped once the filesystem refuses it. */
  private exchange: RenameExchange | undefined;
  private tmpSeq = 0;
  /** Highest sequence number seen or written; undefined until the files were read. */
  private seq: number | undefined;
  private files: OpenFiles | undefined;
  private journalBytes = 0;
  /** The next commit writes <path> durably and empties the journal (first commit, after a failure). */
  private needBase = true;

  constructor(
    path: string,
    opts: { now?: () => number; journalLimitBytes?: number; warn?: (msg: string, details: Record<string, unknown>) => void; exchange?: RenameExchange } = {},
  ) {
    this.path = path;
    this.journalPath = `${path}.journal`;
    this.now = opts.now ?? Date.now;
    this.journalLimit = opts.journalLimitBytes ?? JOURNAL_LIMIT_BYTES;
    this.warn = opts.warn ?? (() => undefined);
    this.exchange = opts.exchange;
  }

  async load(): Promise<CheckpointData | null> {
    const text = await readOptional(this.path);
    const latest = await this.journalLatest();
    if (text === undefined) {
      this.seq = Math.max(this.seq ?? 0, latest?.seq ?? 0);
      return null;
    }
    let file: CheckpointEnvelope;
    try {
      file = parseEnvelope(text, this.path);
    } catch (err) {
      // <path> is replaced without a flush: after a power loss some filesystems show it empty.
      if (!(err instanceof VpcnetError && err.code === 'CHECKPOINT_CORRUPT') || !latest) throw err;
      const aside = `${this.path}.corrupt-${this.now()}`;
      await rename(this.path, aside).catch(() => undefined);
      this.warn('checkpoint file unreadable; restored from its journal (the file was moved aside)', { path: this.path, movedTo: aside, seq: latest.seq });
      this.seq = Math.max(this.seq ?? 0, latest.seq);
      return latest.data;
    }
    this.seq = Math.max(this.seq ?? 0, file.seq, latest?.seq ?? 0);
    return latest && latest.seq > file.seq ? latest.data : file.data;
  }

  async commit(data: CheckpointData): Promise<void> {
    const tmp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.${++this.tmpSeq}.tmp`);
    try {
      const files = await this.open();
      this.seq = (this.seq ?? 0) + 1;
      // encoded once, for both files
      const text = Buffer.from(JSON.stringify({ version: CHECKPOINT_VERSION, writtenAt: this.now(), seq: this.seq, data }));
      if (this.needBase || this.journalBytes >= this.journalLimit) {
        await writeFileAt(tmp, text, true);
        await rename(tmp, this.path);
        await fsync(files.dir);
        await ftruncate(files.journal, 0);
        await fdatasync(files.journal);
        this.journalBytes = 0;
        this.needBase = false;
        return;
      }
      const line = [Buffer.from(`${crc32(text).toString(16).padStart(8, '0')} `), text, NEWLINE];
      this.journalBytes += 10 + text.length;
      // Both writes only reach the page cache, so they run right here: a thread-pool hop and a
      // promise per call cost more CPU than the write. Only the flush waits off-thread; <path>
      // is replaced after a turn of the event loop, so the caller's work (a pod's wiring) starts
      // while the device flushes.
      appendAllSync(files.journal, line);
      const flushed = fdatasync(files.journal);
      try {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (!replaceFileSync(tmp, this.path, text, this.exchange)) this.exchange = undefined;
      } finally {
        await flushed;
      }
    } catch (err) {
      // A torn journal tail would hide later records from load(): start over with a durable file.
      this.needBase = true;
      await unlink(tmp).catch(() => undefined);
      throw new VpcnetError('CHECKPOINT_IO', `cannot write checkpoint ${this.path}`, { cause: err, details: { path: this.path } });
    }
  }

  async close(): Promise<void> {
    const files = this.files;
    this.files = undefined;
    this.needBase = true;
    if (!files) return;
    await closeFd(files.journal).catch(() => undefined);
    await closeFd(files.dir).catch(() => undefined);
  }

  private async open(): Promise<OpenFiles> {
    if (this.files) return this.files;
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    // A store that commits without load() still continues past every sequence number on disk.
    if (this.seq === undefined) {
      const text = await readOptional(this.path);
      let fileSeq = 0;
      try {
        if (text !== undefined) fileSeq = parseEnvelope(text, this.path).seq;
      } catch {
        // replaced by this commit
      }
      this.seq = Math.max(fileSeq, (await this.journalLatest().catch(() => undefined))?.seq ?? 0);
    }
    const journal = await openFd(this.journalPath, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT, 0o600);
    const dirFd = await openFd(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY).catch(async (err: unknown) => {
      await closeFd(journal);
      throw err;
    });
    this.files = { journal, dir: dirFd };
    this.needBase = true;
    return this.files;
  }

  /** The journal's newest intact record; reading stops at the first torn or unchecked line. */
  private async journalLatest(): Promise<CheckpointEnvelope | undefined> {
    const text = await readOptional(this.journalPath);
    if (!text) return undefined;
    let latest: CheckpointEnvelope | undefined;
    for (const line of text.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp !== 8) break;
      const payload = line.slice(9);
      if (crc32(payload).toString(16).padStart(8, '0') !== line.slice(0, 8)) break;
      // An intact record that does not parse is corruption (or a newer writer), never skipped.
      const env = parseEnvelope(payload, this.journalPath);
      if (!latest || env.seq > latest.seq) latest = env;
    }
    return latest;
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
      `checkpoint ${path} has version ${head.data.version}, newer than ${CHECKPOINT_VERSION} that this agent reads; refusing to start (a downgrade needs the file and its .journal moved away by hand)`,
      { details: { path, version: head.data.version, supported: CHECKPOINT_VERSION } },
    );
  }
  const reader = CHECKPOINT_READERS[head.data.version];
  if (!reader) throw corrupt(path, `unknown version ${head.data.version}`, head.data);
  const parsed = reader.schema.safeParse(raw);
  if (!parsed.success) throw corrupt(path, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), parsed.error);
  const data = reader.migrate(parsed.data.data as never);
  const migrated = parsed.data.version !== CHECKPOINT_VERSION ? { migratedFrom: parsed.data.version } : {};
  return { version: CHECKPOINT_VERSION, writtenAt: parsed.data.writtenAt, seq: parsed.data.seq ?? 0, data, ...migrated };
}

function corrupt(path: string, why: string, cause: unknown): VpcnetError {
  return new VpcnetError('CHECKPOINT_CORRUPT', `checkpoint ${path} is corrupt (${why}); it was left untouched`, {
    cause,
    details: { path },
  });
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VpcnetError('CHECKPOINT_IO', `cannot read checkpoint ${path}`, { cause: err, details: { path } });
  }
}

/** A new file with `text`; `durable` flushes it (fdatasync: its data and size, enough to read it back). */
async function writeFileAt(path: string, text: Buffer, durable: boolean): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    await fh.writeFile(text);
    if (durable) await fh.datasync();
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
