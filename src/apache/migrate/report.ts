// MIGRATION.md: what `wsgate migrate` changed and what it could not carry over, with file:line.
import { locationName, writtenSection } from '../../config/location-match.js';
import type { SourceLocation } from '../../config/model.js';
import type { Replacement } from './apache-edit.js';
import type { MergedEndpoint } from './merge.js';
import type { Note, NoteKind } from './scan.js';

export interface ReportInput {
  source: string;
  serverRoot: string;
  endpoints: readonly MergedEndpoint[];
  replacements: readonly Replacement[];
  changedFiles: readonly string[];
  notes: readonly Note[];
  listen: string;
  where: (loc: SourceLocation) => string;
}

const sections: Array<{ kind: NoteKind; title: string; empty: string }> = [
  { kind: 'unsupported', title: 'Not carried over (do these by hand)', empty: 'Nothing: every mod_websocket line was carried over.' },
  { kind: 'kept', title: 'Kept in Apache', empty: 'No other directives were inside the WebSocket Locations.' },
  { kind: 'info', title: 'Worth checking', empty: 'Nothing else.' },
];

function endpointLine(e: MergedEndpoint, where: ReportInput['where']): string {
  const path = `<${writtenSection(e.config.match)} ${locationName(e.config)}>`;
  const vhost = e.primary.vhost.isMain ? 'main server' : `<VirtualHost ${e.primary.vhost.addresses.join(' ')}>${e.primary.vhost.serverName ? ` ${e.primary.vhost.serverName}` : ''}`;
  const from = e.occurrences.map((o) => where(o.node.loc)).join(', ');
  const carried = e.settings.map((s) => `${s.name} ${s.args.join(' ')}`).join('; ');
  return `- ${from}: ${path} in the ${vhost} → handler \`${e.primary.handler.args.join(' ')}\`${carried ? `; ${carried}` : ''}`;
}

export function renderReport(input: ReportInput): string {
  const { where } = input;
  const out = [
    '# Migration from mod_websocket to wsgate',
    '',
    `Source: \`${input.source}\` (ServerRoot \`${input.serverRoot}\`). The gateway listens on ${input.listen}.`,
    '',
    `## Endpoints moved to the gateway (wsgate.conf)`,
    '',
    ...(input.endpoints.length ? input.endpoints.map((e) => endpointLine(e, where)) : ['None found: no <Location> with `SetHandler websocket-handler` and `WebSocketHandler`.']),
    '',
    '## Apache changes (files under apache/, relative to ServerRoot)',
    '',
    ...(input.replacements.length ? [] : ['None.']),
    ...input.replacements.map((r) => {
      const lines = r.range.last > r.range.first ? `-${r.range.last}` : '';
      return `- ${where({ file: r.range.file, line: r.range.first, column: 1 })}${lines}: ${r.summary}`;
    }),
    '',
    ...sections.flatMap((s) => {
      const notes = input.notes.filter((n) => n.kind === s.kind);
      return [`## ${s.title}`, '', ...(notes.length ? notes.map((n) => `- ${where(n.loc)}: ${n.text}`) : [s.empty]), ''];
    }),
    '## Origin checks',
    '',
    'mod_websocket never checked Origin. wsgate defaults to `WebSocketOriginCheck Same` (the page must',
    'come from the same host); add `WebSocketOriginCheck Off` to a Location to keep the old behaviour.',
    '',
    '## Next steps',
    '',
    '1. `wsgate check -f wsgate.conf`, then `wsgate serve -f wsgate.conf`.',
    `2. Copy the files under apache/ over ServerRoot (${input.changedFiles.map((f) => `\`${f}\``).join(', ')}),`,
    '   then `apachectl -t` and a graceful restart. apache-wsgate.conf holds the same proxy',
    '   configuration as one file (`wsgate apache` output), for review or for an Include.',
    '',
  ];
  return out.join('\n');
}
