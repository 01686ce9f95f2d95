// mod_remoteip's directives. Apache allows them per <VirtualHost>; wsgate decides the client
// address once per connection, server-wide, so a vhost's lines are merged into the server's
// setting with a warning, and two different headers cannot both be honoured.
import type { SourceLocation } from '../errors.js';
import type { DiagnosticSink } from './diagnostics.js';
import type { RemoteIpConfig } from './model.js';
import type { ModelDirective } from './schema.js';
import type { ResolvedNode } from './tree.js';
import { parseAddressOrCidr } from './values.js';

export class RemoteIpSetting {
  /** Where the header in force was set, and whether that was inside a <VirtualHost>. */
  private headerFrom: { loc: SourceLocation; inVhost: boolean } | undefined;

  constructor(
    private readonly config: RemoteIpConfig,
    private readonly sink: DiagnosticSink,
  ) {}

  /** Throws ValueError for a bad address. */
  apply(spec: ModelDirective, node: ResolvedNode, inVhost: boolean): void {
    if (inVhost) {
      this.sink.warning('CONFIG_CONTEXT', node.loc, `${spec.name} in <VirtualHost>: wsgate applies it to all virtual hosts (client-address trust is server-wide)`);
    }
    if (spec.sets === 'remoteIp.trustedProxies') {
      this.config.trustedProxies.push(...node.args.map((v, i) => parseAddressOrCidr(v, i)));
      return;
    }
    const header = node.args[0] ?? '';
    const before = this.config.header;
    const from = this.headerFrom;
    // In the main server a later line replaces an earlier one, as in Apache; across hosts it cannot.
    if (before !== undefined && from && before.toLowerCase() !== header.toLowerCase() && (inVhost || from.inVhost)) {
      this.sink.error(
        'CONFIG_VALUE',
        node.argLocs[0] ?? node.loc,
        `RemoteIPHeader ${header} conflicts with RemoteIPHeader ${before} (line ${from.loc.line} of ${from.loc.file}): wsgate reads one header for all virtual hosts`,
      );
      return;
    }
    this.config.header = header;
    this.headerFrom = { loc: node.loc, inVhost };
  }
}
