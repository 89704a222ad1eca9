// List-then-watch cache of one kind (client-go's reflector, small): list, then watch from the
// list's resourceVersion; bookmarks advance it; 410 Gone relists at once; a broken watch or a
// failed list relists after backoff with jitter. `synced` turns true after the first list and
// stays true: the cache is then a real view, possibly stale while the server is away.
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.ts';
import { toVpcnetError } from '../errors.ts';
import { backoffDelay, type Backoff } from '../../providers/kit/retry.ts';
import { KUBE_BACKOFF } from './kube-client.ts';
import type { ListResult, WatchEvent, WatchHandle } from './kube-client.ts';

export interface ReflectorSource<T> {
  list(): Promise<ListResult<T>>;
  watch(resourceVersion: string, onEvent: (e: WatchEvent<T>) => void): Promise<WatchHandle>;
}

export type ReflectorChange<T> =
  | { kind: 'synced' }
  | { kind: 'upsert'; object: T }
  | { kind: 'delete'; object: T };

export interface ReflectorOptions {
  clock: Clock;
  logger: Logger;
  backoff?: Backoff;
}

export class Reflector<T> {
  private readonly store = new Map<string, T>();
  private readonly listeners: ((c: ReflectorChange<T>) => void)[] = [];
  private readonly stopper = new AbortController();
  private handle: WatchHandle | undefined;
  private loop: Promise<void> | undefined;
  private syncedValue = false;
  private liveValue = false;
  private rv = '';
  private listsValue = 0;
  private readonly source: ReflectorSource<T>;
  private readonly keyOf: (t: T) => string;
  private readonly rvOf: (t: T) => string;
  private readonly opts: ReflectorOptions;

  constructor(source: ReflectorSource<T>, keyOf: (t: T) => string, rvOf: (t: T) => string, opts: ReflectorOptions) {
    this.source = source;
    this.keyOf = keyOf;
    this.rvOf = rvOf;
    this.opts = opts;
  }

  /** True once a list has succeeded. */
  get synced(): boolean {
    return this.syncedValue;
  }

  /** Successful lists so far (the first one and every relist). */
  /**
   * True while the cache is current: listed, and the watch since then has not broken. False
   * during an outage, when the cache may lack objects created meanwhile.
   */
  get live(): boolean {
    return this.liveValue;
  }

  get lists(): number {
    return this.listsValue;
  }

  get resourceVersion(): string {
    return this.rv;
  }

  items(): ReadonlyMap<string, T> {
    return this.store;
  }

  onChange(listener: (c: ReflectorChange<T>) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopper.abort(new Error('stopped'));
    this.handle?.stop();
    await this.loop;
  }

  private emit(c: ReflectorChange<T>): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch (err) {
        this.opts.logger.error({ err }, 'reflector listener failed');
      }
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      let outcome: 'gone' | 'broken';
      try {
        await this.relist();
        failures = 0;
        outcome = await this.watchUntilBroken();
      } catch (err) {
        if (signal.aborted) break;
        this.opts.logger.warn({ err: toVpcnetError(err) }, 'list failed');
        outcome = 'broken';
      }
      this.liveValue = false;
      if (signal.aborted) break;
      if (outcome === 'gone') continue;
      failures++;
      try {
        await this.opts.clock.sleep(backoffDelay(failures - 1, this.opts.backoff ?? KUBE_BACKOFF), signal);
      } catch {
        break;
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.source.list();
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = this.keyOf(item);
      seen.add(key);
      const prev = this.store.get(key);
      this.store.set(key, item);
      if (!prev || this.rvOf(prev) !== this.rvOf(item)) this.emit({ kind: 'upsert', object: item });
    }
    for (const [key, item] of [...this.store]) {
      if (seen.has(key)) continue;
      this.store.delete(key);
      this.emit({ kind: 'delete', object: item });
    }
    this.rv = list.resourceVersion;
    this.syncedValue = true;
    this.liveValue = true;
    this.listsValue++;
    this.emit({ kind: 'synced' });
  }

  /** Watches from the current resourceVersion until the server says it is too old or the stream breaks. */
  private async watchUntilBroken(): Promise<'gone' | 'broken'> {
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      let gone = false;
      let errored = false;
      const handle = await this.source.watch(this.rv, (e) => {
        if (e.type === 'BOOKMARK') {
          if (e.resourceVersion) this.rv = e.resourceVersion;
        } else if (e.type === 'ERROR') {
          if (e.code === 410) gone = true;
          else errored = true;
          this.handle?.stop();
        } else {
          const key = this.keyOf(e.object);
          if (e.type === 'DELETED') {
            if (this.store.delete(key)) this.emit({ kind: 'delete', object: e.object });
          } else {
            this.store.set(key, e.object);
            this.emit({ kind: 'upsert', object: e.object });
          }
          this.rv = this.rvOf(e.object) || this.rv;
        }
      });
      this.handle = handle;
      if (signal.aborted) handle.stop();
      try {
        await handle.done;
      } catch (err) {
        if (gone) return 'gone';
        if (!signal.aborted) this.opts.logger.warn({ err }, 'watch broke');
        return 'broken';
      }
      if (gone) {
        this.opts.logger.info({ resourceVersion: this.rv }, 'watch expired; relisting');
        return 'gone';
      }
      if (errored) return 'broken';
      // A clean close (server timeout): resume from where we are.
    }
    return 'broken';
  }
}
