// apache/php/push.php run by a real php CLI pushes to a connected ws client.
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../server/config-fixture.js';
import { startLiveGateway, type LiveGateway } from './live-gateway.js';

const php = spawnSync('php', ['--version'], { encoding: 'utf8' });
const hasPhp = php.status === 0;
const pushScript = resolve(repoRoot, 'apache/php/push.php');

function runPhp(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('php', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const title = hasPhp ? 'PHP push example (php CLI)' : 'PHP push example: skipped, no php CLI on PATH (apt-get install php-cli)';

describe.skipIf(!hasPhp)(title, () => {
  let live: LiveGateway;
  beforeAll(async () => {
    live = await startLiveGateway();
  });
  afterAll(() => live?.close());

  it('php push.php SOCKET ID MESSAGE reaches the browser side, newlines and all', async () => {
    const a = await live.client('/board');
    const message = JSON.stringify({ title: 'Hello', text: 'from PHP\nsecond line €' });
    const r = await runPhp([pushScript, live.socketPath, a.id, message]);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await a.inbox.nextText()).toBe(message);
    a.inbox.ws.close();
  });

  it('exits 2 and prints the ERR line for an unknown id', async () => {
    const r = await runPhp([pushScript, live.socketPath, 'nobody here', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("push.php: ERR CONTROL_NOT_FOUND no open connection with id 'nobody here'\n");
  });

  it('wsgate_list and wsgate_broadcast work from included code', async () => {
    const a = await live.client('/board', '&room=php');
    const code = `require ${JSON.stringify(pushScript)};
      $list = wsgate_list($argv[1], '/board');
      echo isset($list[$argv[2]]) ? "listed\\n" : "missing\\n";
      echo wsgate_broadcast($argv[1], "to the board", '/board'), "\\n";
      wsgate_send($argv[1], $argv[2], "\\x00\\xff", true);`;
    const r = await runPhp(['-r', code, live.socketPath, a.id]);
    expect(r.stderr).toBe('');
    const [listed, count] = r.stdout.trim().split('\n');
    expect(listed).toBe('listed');
    expect(Number(count)).toBeGreaterThanOrEqual(1);
    expect(await a.inbox.nextText()).toBe('to the board');
    const bin = await a.inbox.next();
    expect([bin.isBinary, [...bin.data]]).toEqual([true, [0, 255]]);
    a.inbox.ws.close();
  });
});
