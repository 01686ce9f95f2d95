// `wsgate status`: the running gateway's status page, like `apachectl fullstatus`, from its
// control channel (STATUS on the socket, GET /status over HTTP). --json prints the report as is;
// --watch refreshes it in place on a terminal (one page after another otherwise), with the
// message rates of the last interval instead of the averages since start.
import { isWsgateError } from '../errors.js';
import { RemoteError, type ControlClient } from '../control/client.js';
import type { StatusReport } from '../control/probe.js';
import type { ControlTarget } from '../control/target.js';
import { UsageError, parseCommandArgs } from './args.js';
import { channelOptions, connectTarget, findTarget } from './control-channel.js';
import { ExitCode, type CliIO } from './io.js';

const help = `usage: wsgate status [--socket PATH | --url URL [--token T] | -f FILE [-D NAME]...] [--json] [--watch [SECONDS] [--count N]]
  --json             the report as JSON (one object; with --watch one line per refresh)
  --watch [SECONDS]  refresh every SECONDS (default 2) until interrupted; on a terminal the page
                     is redrawn in place, and rates are those of the last interval
  --count N          with --watch: stop after N pages
The control channel is found as for wsgate ctl: --socket (WSGATE_CONTROL_SOCKET), --url
(WSGATE_CONTROL_URL, --token or WSGATE_CONTROL_TOKEN), else -f FILE or conf/wsgate.conf.
Exit 0 when the gateway answered; 2 when it cannot be reached or answers ERR.
`;

const CLEAR = '\x1b[H\x1b[2J';

export async function status(args: string[], io: CliIO): Promise<number> {
  let target: ControlTarget;
  let json: boolean;
  let watchSeconds: number | undefined;
  let count: number | undefined;
  try {
    const parsed = parseCommandArgs({
      args,
      allowPositionals: true,
      options: { ...channelOptions, json: { type: 'boolean' }, watch: { type: 'boolean' }, count: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    const v = parsed.values;
    if (v.help) {
      io.stdout.write(help);
      return ExitCode.Ok;
    }
    const [word, ...extra] = parsed.positionals;
    if (extra.length > 0 || (word !== undefined && !v.watch)) throw new UsageError(`unexpected argument '${extra[0] ?? word}'`);
    if (v.watch) {
      watchSeconds = word === undefined ? 2 : Number(word);
      if (!Number.isFinite(watchSeconds) || watchSeconds < 0.1 || watchSeconds > 86_400) throw new UsageError(`--watch ${word}: expected SECONDS from 0.1 to 86400`);
    }
    if (v.count !== undefined) {
      count = Number(v.count);
      if (!v.watch) throw new UsageError('--count needs --watch');
      if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count ${v.count}: expected a whole number ≥ 1`);
    }
    json = v.json === true;
    const found = await findTarget(v, io, 'status');
    if (typeof found === 'number') return found;
    target = found;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`wsgate status: ${err.message}\n${help}`);
    return ExitCode.ConfigOrUsage;
  }
  if (watchSeconds === undefined) return once(target, json, io);
  return watch(target, json, watchSeconds, count, io);
}

async function fetchReport(client: ControlClient): Promise<StatusReport> {
  const result = await client.execute({ kind: 'status' });
  if (result.kind !== 'status') throw new RemoteError('IO', `unexpected answer to STATUS: ${result.kind}`);
  return result.report;
}

/** The error in words, or undefined when it is not one of ours (a bug: rethrown). */
function describeFailure(err: unknown): string | undefined {
  if (err instanceof RemoteError) return `ERR ${err.code} ${err.message}`;
  if (isWsgateError(err)) return err.message;
  return undefined;
}

async function once(target: ControlTarget, json: boolean, io: CliIO): Promise<number> {
  let client: ControlClient | undefined;
  try {
    client = await connectTarget(target);
    const report = await fetchReport(client);
    io.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
    return ExitCode.Ok;
  } catch (err) {
    const text = describeFailure(err);
    if (text === undefined) throw err;
    io.stderr.write(`wsgate status: ${text}\n`);
    return ExitCode.Runtime;
  } finally {
    await client?.close();
  }
}

/** Until interrupted (or `count` pages): a gateway that goes away is shown as such and retried. */
async function watch(target: ControlTarget, json: boolean, seconds: number, count: number | undefined, io: CliIO): Promise<number> {
  const tty = (io.stdout as NodeJS.WriteStream).isTTY === true;
  let client: ControlClient | undefined;
  let previous: { report: StatusReport; at: number } | undefined;
  try {
    for (let page = 1; count === undefined || page <= count; page++) {
      let text: string;
      try {
        client ??= await connectTarget(target);
        const report = await fetchReport(client);
        const at = Date.now();
        text = json ? `${JSON.stringify(report)}\n` : renderStatus(report, previous && { report: previous.report, seconds: (at - previous.at) / 1000 });
        previous = { report, at };
      } catch (err) {
        const failure = describeFailure(err);
        if (failure === undefined) throw err;
        await client?.close().catch(() => undefined);
        client = undefined;
        previous = undefined;
        text = `wsgate status: ${failure} (retrying every ${seconds} s)\n`;
      }
      io.stdout.write(tty ? `${CLEAR}${text}` : page > 1 && !json ? `\n${text}` : text);
      if (count !== undefined && page >= count) break;
      await new Promise((r) => setTimeout(r, seconds * 1000));
    }
    return ExitCode.Ok;
  } finally {
    await client?.close();
  }
}

/** The text page; with `since` (the previous report and the seconds between) rates are that interval's. */
export function renderStatus(report: StatusReport, since?: { report: StatusReport; seconds: number }): string {
  const lines: string[] = [];
  lines.push(`wsgate ${report.version} status (pid ${report.pid})`, '');
  lines.push(`Started:     ${report.startedAt}`);
  lines.push(`Uptime:      ${formatDuration(report.uptimeSeconds)}`);
  const mode = report.mode === 'single' ? 'one process (WebSocketWorkers 0)' : `${report.workers.length} worker processes, generation ${report.generation}`;
  lines.push(`Mode:        ${mode}`);
  lines.push(`Ready:       ${report.ready ? 'yes' : 'NO (see GET /readyz)'}`);
  lines.push(`Listeners:   ${report.listeners.join(', ') || 'none'}`);
  const handshakes = Object.entries(report.handshakes).map(([s, n]) => `${s} ×${n}`).join(', ');
  lines.push(`Connections: ${report.connections} open; handshakes: ${handshakes || 'none yet'}`);
  if (report.unanswered.length > 0) lines.push(`Unanswered:  ${report.unanswered.join(', ')} (their connections are missing from the counts)`);
  lines.push('');

  const rateHead = since ? `last ${round(since.seconds)} s` : 'since start';
  const prior = new Map(since?.report.locations.map((l) => [l.location, l]) ?? []);
  const rate = (now: number, before: number | undefined, average: number): string =>
    since ? String(round(Math.max(0, now - (before ?? 0)) / Math.max(since.seconds, 0.001))) : String(average);
  lines.push(
    ...table(
      ['Location', 'Open', 'Versions', 'Msgs in', 'Msgs out', 'In/s', 'Out/s', 'Bytes in', 'Bytes out'],
      report.locations.map((l) => [
        l.location,
        String(l.connections),
        Object.entries(l.byVersion).map(([v, n]) => `${v}:${n}`).join(' ') || '-',
        String(l.messagesIn),
        String(l.messagesOut),
        rate(l.messagesIn, prior.get(l.location)?.messagesIn, l.messagesInPerSecond),
        rate(l.messagesOut, prior.get(l.location)?.messagesOut, l.messagesOutPerSecond),
        formatBytes(l.bytesIn),
        formatBytes(l.bytesOut),
      ]),
    ),
    `(message rates: ${rateHead})`,
    '',
  );
  if (report.mode === 'workers') {
    lines.push(
      ...table(
        ['Worker', 'PID', 'State', 'Gen', 'Uptime', 'Restarts', 'Open'],
        report.workers.map((w) => [w.name, String(w.pid ?? '-'), w.state, String(w.generation), formatDuration(w.uptimeSeconds), String(w.restarts), w.connections === null ? '?' : String(w.connections)]),
      ),
      '',
    );
  }
  const c = report.control;
  const channels = [c.socket && `socket ${c.socket}`, c.http && `HTTP ${c.http}`, c.metrics && `metrics ${c.metrics}`].filter(Boolean);
  lines.push(`Control:     ${channels.join('; ') || 'none'}`);
  lines.push(`Cluster bus: ${report.bus ? `${report.bus.connected ? 'connected' : 'DOWN'} (cluster ${report.bus.cluster}, node ${report.bus.node})` : 'none (one node)'}`);
  return `${lines.join('\n')}\n`;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const parts = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ] as const;
  const first = parts.findIndex(([n]) => n > 0);
  return first < 0 ? '0s' : parts.slice(first).map(([n, unit]) => `${n}${unit}`).join(' ');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
