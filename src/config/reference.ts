// Renders the config reference (markdown) from the schema, for docs/operations.md.
import { configFields, type ConfigField } from './fields.ts';

export function renderConfigReference(): string {
  const rows = configFields().map((f) => `| \`${f.key}\` | ${envCell(f)} | ${typeCell(f)} | ${defaultCell(f)} | ${descriptionCell(f)} |`);
  const intro =
    'The agent reads a JSON file (`--config`, else `$VPCNET_CONFIG`, else none) and then the environment. ' +
    'Precedence: default < file < AWS VPC CNI alias variable < `VPCNET_*` variable. ' +
    'Invalid values stop the agent with every problem listed by key and source. ' +
    '`provider` has one section per cloud, chosen by `provider.name`: keys marked with a provider belong to its section only ' +
    '(Azure and GCE providers are not implemented yet; their sections are validated, the agent refuses to start on them).';
  return [intro, '', '| Key | Environment | Type | Default | Description |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

function descriptionCell(f: ConfigField): string {
  const scope = f.providers ? ` (${f.providers.join(', ')} only)` : '';
  return `${f.meta.description}${scope}`.replace(/\|/g, '\\|');
}

function envCell(f: ConfigField): string {
  const aliases = (f.meta.aliases ?? []).map((a) => `\`${a.name}\`${a.note ? ` (${a.note})` : ''}`);
  return [`\`${f.meta.env}\``, ...aliases].join('<br>').replace(/\|/g, '\\|');
}

function typeCell(f: ConfigField): string {
  if (f.kind === 'enum') return (f.values ?? []).join(' \\| ');
  if (f.kind === 'list') return 'list (comma separated in env)';
  if (f.kind === 'map') return 'map (k=v,k=v in env)';
  return f.kind === 'number' ? 'integer' : f.kind;
}

function defaultCell(f: ConfigField): string {
  if (f.default !== undefined) return `\`${JSON.stringify(f.default)}\``;
  return f.optional ? '(unset)' : '(required)';
}
