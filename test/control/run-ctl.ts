// `wsgate ctl` run in-process, with its exit code and output captured.
import { afterAll } from 'vitest';
import { ctl } from '../../src/cli/ctl.js';
import { captureIO } from '../config/helpers.js';
import { tempDir } from './helpers.js';

// An empty working directory, so no conf/wsgate.conf is picked up by default.
const emptyDir = tempDir();
afterAll(() => emptyDir.remove());

export async function runCtl(args: string[], env: NodeJS.ProcessEnv = {}, cwd = emptyDir.dir): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, out, err } = captureIO(cwd, env);
  const code = await ctl(args, io);
  return { code, stdout: out(), stderr: err() };
}
