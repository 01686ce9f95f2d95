// apache/php/push.php run by a real php CLI pushes to a connected ws client.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../server/config-fixture.js';
import { runProcess } from '../run-process.js';
import { roomsLocation, startLiveGateway, type LiveGateway } from './live-gateway.js';

const php = spawnSync('php', ['--version'], { encoding: 'utf8' });
const hasPhp = php.status === 0;
const pushScript = resolve(repoRoot, 'apache/php/push.php');
const boardPost = resolve(repoRoot, 'apache/php/board-post.php');

const runPhp = (args: string[], env: NodeJS.ProcessEnv = {}) => runProcess('php', args, { env });

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

  it('reads LIST blocks up to END and stays in step with commands on the same handle', async () => {
    const a = await live.client('/rooms/5');
    const code = `require ${JSON.stringify(pushScript)};
      $fp = wsgate_connect($argv[1]);
      $ids = [];
      // Written in one go: both LISTs, then PING, before reading any answer.
      fwrite($fp, "LIST WEBSOCKETS" . wsgate_filter($argv[3]) . "\\nLIST /nowhere\\nPING\\n");
      foreach ([1, 2] as $_) {
        $status = rtrim(fgets($fp), "\\r\\n");
        $ids[] = array_map(fn ($l) => rawurldecode(explode(' ', $l)[0]), wsgate_read_block($fp, $status));
      }
      echo json_encode([$ids, rtrim(fgets($fp), "\\r\\n")]), "\\n";
      fclose($fp);`;
    const r = await runPhp(['-r', code, live.socketPath, a.id, roomsLocation]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([[[a.id], []], 'OK PONG']);
    a.inbox.ws.close();
  });

  it('joins and broadcasts to a group with spaces and a regex Location', async () => {
    const a = await live.client('/rooms/6');
    const code = `require ${JSON.stringify(pushScript)};
      wsgate_join($argv[1], $argv[2], 'grp with space 100%');
      echo json_encode(wsgate_list($argv[1], $argv[3], 'grp with space 100%')), "\\n";
      echo wsgate_broadcast($argv[1], 'to the room group', $argv[3], false, 'grp with space 100%'), "\\n";`;
    const r = await runPhp(['-r', code, live.socketPath, a.id, roomsLocation]);
    expect(r.stderr).toBe('');
    const [list, count] = r.stdout.trim().split('\n');
    expect(Object.keys(JSON.parse(list!))).toEqual([a.id]);
    expect(count).toBe('1');
    expect(await a.inbox.nextText()).toBe('to the room group');
    a.inbox.ws.close();
  });

  it('board-post.php broadcasts a posted form to one room of the board', async () => {
    const inRoom = await live.client('/board', '&room=php-room');
    const code = `$_SERVER['REQUEST_METHOD'] = 'POST';
      $_POST = ['title' => 'Hi', 'text' => "two\\nlines"];
      $_GET = ['room' => 'php-room'];
      require ${JSON.stringify(boardPost)};`;
    const r = await runPhp(['-r', code], { WSGATE_CONTROL_SOCKET: live.socketPath });
    expect([r.stderr, r.stdout]).toEqual(['', '{"sent":1}\n']);
    expect(JSON.parse(await inRoom.inbox.nextText())).toMatchObject({ title: 'Hi', text: 'two\nlines' });
    inRoom.inbox.ws.close();
  });
});
