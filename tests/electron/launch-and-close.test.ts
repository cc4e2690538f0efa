// How main launches the service and what closing the window asks.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { busyRun, closeChoice, closePrompt } from '../../src-main/electron/close-prompt';
import { resolveServiceNode, serviceLaunchCommand, serviceLogPath } from '../../src-main/electron/service-launch';
import type { RunSummary, ServiceState } from '../../src-shared/api/schemas';

const run = (status: RunSummary['status']): RunSummary => ({
  id: 7,
  name: 'resnet50-a',
  status,
  parentRunId: null,
  parentCheckpointId: null,
  forkEpoch: null,
  seed: 1,
  backend: 'cpu',
  host: 'h',
  createdAt: '2026-01-01T00:00:00Z',
  startedAt: null,
  endedAt: null,
  error: null,
  lastEpoch: 2,
  targetEpochs: 90,
  bestValTop1: null,
  notes: '',
  tags: [],
});
const state = (status: RunSummary['status'] | null, queue: number[] = []): ServiceState => ({
  activeRun: status ? run(status) : null,
  progress: null,
  queue,
  augment: null,
});

describe('service launch', () => {
  it('runs the bundled service under system Node with --ipc, --db and --data-dir', () => {
    const cmd = serviceLaunchCommand({ nodePath: 'node', serviceBundle: 'out/node/service.cjs', dbPath: '/d/ws.db', dataDir: '/d' });
    expect(cmd).toEqual({ command: 'node', args: [path.resolve('out/node/service.cjs'), '--ipc', '--db', '/d/ws.db', '--data-dir', '/d'] });
    expect(
      serviceLaunchCommand({ nodePath: '/opt/node22/bin/node', serviceBundle: '/a/s.cjs', dbPath: '/d/x.db', dataDir: '/d', extraArgs: ['--verbose'] }).args.at(
        -1,
      ),
    ).toBe('--verbose');
    expect(() => serviceLaunchCommand({ nodePath: '', serviceBundle: 's', dbPath: 'd', dataDir: 'd' })).toThrow(/nodePath/);
  });

  it('picks the Node binary: setting, then $WORKSTATION_NODE, then node on PATH', () => {
    expect(resolveServiceNode('/usr/bin/node22', { WORKSTATION_NODE: '/x/node' })).toBe('/usr/bin/node22');
    expect(resolveServiceNode(null, { WORKSTATION_NODE: '/x/node' })).toBe('/x/node');
    expect(resolveServiceNode('  ', {})).toBe('node');
  });

  it('logs the detached service to a file in the data dir', () => {
    expect(serviceLogPath('/d')).toBe(path.join('/d', 'logs', 'service.log'));
  });
});

describe('closing the window', () => {
  it('asks only while a run trains, is paused or queued', () => {
    expect(busyRun(null)).toBeNull();
    expect(busyRun(state(null))).toBeNull();
    for (const s of ['completed', 'stopped', 'failed', 'interrupted'] as const) expect(busyRun(state(s)), s).toBeNull();
    for (const s of ['running', 'paused', 'queued'] as const) expect(busyRun(state(s))).toEqual({ id: 7, name: 'resnet50-a', status: s });
  });

  it('offers stop or keep training in the background (and cancel)', () => {
    const p = closePrompt({ name: 'resnet50-a', status: 'running' }, 2);
    expect(p.buttons).toEqual(['Keep training in the background', 'Stop the run', 'Cancel']);
    expect(p.message).toMatch(/“resnet50-a” is training/);
    expect(p.detail).toMatch(/2 more runs are queued/);
    expect(p.buttons[p.cancelId]).toBe('Cancel');
    expect(p.buttons.map((_, i) => closeChoice(i))).toEqual(['background', 'stop', 'cancel']);
    // Escape / closing the dialog answers the cancel id; anything unexpected cancels too
    expect(closeChoice(p.cancelId)).toBe('cancel');
    expect(closeChoice(9)).toBe('cancel');
    expect(closePrompt({ name: 'r', status: 'paused' }, 0).message).toMatch(/is paused/);
  });
});
