// Which cloud's run `npm run bench:scale` starts: `--cloud C` or `--cloud=C` (default aws).
// The chosen run gets the remaining arguments without --cloud, so each run parses only its own.
export const SCALE_CLOUDS = ['aws', 'azure', 'gcp'] as const;
export type ScaleCloud = (typeof SCALE_CLOUDS)[number];

export type ScaleChoice = { cloud: ScaleCloud; argv: string[] } | { problem: string };

export function chooseScaleRun(argv: readonly string[]): ScaleChoice {
  let cloud: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--cloud') {
      cloud = argv[++i];
      if (cloud === undefined) return { problem: '--cloud needs a value (aws, azure or gcp)' };
    } else if (a.startsWith('--cloud=')) {
      cloud = a.slice('--cloud='.length);
    } else {
      rest.push(a);
    }
  }
  cloud ??= 'aws';
  if (!(SCALE_CLOUDS as readonly string[]).includes(cloud)) return { problem: `--cloud must be aws, azure or gcp, got "${cloud}"` };
  return { cloud: cloud as ScaleCloud, argv: rest };
}

export type ScaleRuns = Record<ScaleCloud, (argv: string[]) => Promise<unknown>>;

/** Runs the chosen cloud's run; a bad --cloud is one line on stderr and exit 2. */
export async function dispatchScale(argv: readonly string[], runs: ScaleRuns, fail: (line: string) => void): Promise<void> {
  const choice = chooseScaleRun(argv);
  if ('problem' in choice) return fail(choice.problem);
  await runs[choice.cloud](choice.argv);
}
