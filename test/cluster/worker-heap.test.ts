import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVING_NODE_OPTIONS, workerExecArgv } from '../../src/cluster/worker-heap.js';
import { repoRoot } from '../native/helpers.js';

describe('workerExecArgv', () => {
  it("adds the old-space floor, main-thread scavenges and the young-generation floor to the supervisor's node options", () => {
    expect(workerExecArgv(['--enable-source-maps'], '')).toEqual(['--enable-source-maps', '--initial-old-space-size=64', '--no-parallel-scavenge', '--min-semi-space-size=8']);
  });

  it('leaves a floor the operator chose, on the command line or in NODE_OPTIONS, in either spelling', () => {
    expect(workerExecArgv(['--initial-old-space-size=256'], '')).toEqual(['--initial-old-space-size=256', '--no-parallel-scavenge', '--min-semi-space-size=8']);
    expect(workerExecArgv([], '--max-old-space-size=512 --initial_old_space_size=128')).toEqual(['--no-parallel-scavenge', '--min-semi-space-size=8']);
  });

  it('leaves parallel scavenging alone when the operator set it either way', () => {
    expect(workerExecArgv(['--parallel-scavenge'], '')).toEqual(['--parallel-scavenge', '--initial-old-space-size=64', '--min-semi-space-size=8']);
    expect(workerExecArgv([], '--no_parallel_scavenge')).toEqual(['--initial-old-space-size=64', '--min-semi-space-size=8']);
  });

  it("leaves the young generation's size to the operator who set either of its bounds", () => {
    expect(workerExecArgv(['--min-semi-space-size=2'], '')).toEqual(['--min-semi-space-size=2', '--initial-old-space-size=64', '--no-parallel-scavenge']);
    expect(workerExecArgv([], '--max_semi_space_size=4')).toEqual(['--initial-old-space-size=64', '--no-parallel-scavenge']);
  });

  it('does not mistake a similar option for one of its own', () => {
    expect(workerExecArgv(['--max-old-space-size=512', '--parallel-scavenge-task-trigger=80', '--semi-space-growth-factor=4'], '')).toEqual([
      '--max-old-space-size=512',
      '--parallel-scavenge-task-trigger=80',
      '--semi-space-growth-factor=4',
      '--initial-old-space-size=64',
      '--no-parallel-scavenge',
      '--min-semi-space-size=8',
    ]);
  });
});

describe("bin/wsgate.js's shebang", () => {
  it('gives the process it starts the same V8 options as the workers get', () => {
    const first = readFileSync(join(repoRoot, 'bin/wsgate.js'), 'utf8').split('\n')[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${SERVING_NODE_OPTIONS.map((option) => option.arg).join(' ')}`);
  });

  it('starts wsgate when run as a program (env -S splits the options)', () => {
    const r = spawnSync(join(repoRoot, 'bin/wsgate.js'), ['--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^wsgate \d+\.\d+\.\d+/);
  });
});
