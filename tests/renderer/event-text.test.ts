// The dashboard's event lines: what a user reads for a backend note, a live augmentation
// change, a fork, an interruption, a resume (by hand or automatically after a crash, from an
// epoch or mid-epoch checkpoint) and a failed checkpoint write; unknown shapes keep their raw
// data (null here).
import { describe, expect, it } from 'vitest';
import { describeEvent } from '../../src-renderer/src/lib/event-text';

describe('run event text', () => {
  it('says which backend trained and why', () => {
    expect(describeEvent({ kind: 'note', data: { backend: 'cpu', reason: 'tfjs-node is not installed; using pure-JS CPU', gpu: null } })).toBe(
      'backend cpu — tfjs-node is not installed; using pure-JS CPU',
    );
    expect(describeEvent({ kind: 'note', data: { backend: 'tensorflow-gpu', reason: 'CUDA found', gpu: 'NVIDIA H100' } })).toBe(
      'backend tensorflow-gpu — CUDA found (GPU: NVIDIA H100)',
    );
    expect(describeEvent({ kind: 'note', data: { message: 'dataset re-indexed' } })).toBe('dataset re-indexed');
    expect(describeEvent({ kind: 'note', data: {} })).toBeNull();
  });

  it('lists the augmentation fields a live change set', () => {
    const e = { kind: 'augment' as const, data: { patch: { hflip: 0, colorJitter: { p: 1, brightness: 0.9 } }, effective: {} } };
    expect(describeEvent(e)).toBe('hflip: 0, colorJitter.p: 1, colorJitter.brightness: 0.9');
    // a recorded diff (from → to) wins over the patch
    expect(describeEvent({ kind: 'augment', data: { patch: { hflip: 0 }, diff: [{ field: 'augment.hflip', from: 0.5, to: 0 }] } })).toBe('hflip: 0.5 → 0');
    expect(describeEvent({ kind: 'augment', data: {} })).toBeNull();
  });

  it('gives a fork its parent, epoch and config diff', () => {
    const diff = [
      { field: 'name', from: 'a', to: 'b' },
      { field: 'optimizer.lr', from: 0.1, to: 0.005 },
      { field: 'train.epochs', from: 3, to: 2 },
    ];
    expect(describeEvent({ kind: 'fork', data: { parentRunId: 1, forkEpoch: 1, diff } })).toBe(
      'from #1 at epoch 1: optimizer.lr: 0.1 → 0.005, train.epochs: 3 → 2',
    );
    expect(describeEvent({ kind: 'fork', data: { parentRunId: 4, forkEpoch: 2, diff: [] } })).toBe('from #4 at epoch 2: same settings');
  });

  it('says where a fork from a mid-epoch checkpoint starts', () => {
    expect(describeEvent({ kind: 'fork', data: { parentRunId: 2, forkEpoch: 3, checkpointKind: 'mid-epoch', stepInEpoch: 120, diff: [] } })).toBe(
      'from #2 at epoch 3 step 120: same settings',
    );
    expect(describeEvent({ kind: 'fork', data: { parentRunId: 2, forkEpoch: 3, checkpointKind: 'epoch', stepInEpoch: null, diff: [] } })).toBe(
      'from #2 at epoch 3: same settings',
    );
  });

  it('says an interruption, with the pid and when the process was last heard of', () => {
    // built from local time, so the expected clock reads the same in every time zone
    const heard = new Date(2024, 4, 6, 10, 4, 12).toISOString();
    const at = new Date(2024, 4, 6, 10, 9, 0).toISOString();
    expect(describeEvent({ kind: 'interrupted', at, data: { reason: 'the process training this run stopped', pid: 123, lastHeartbeatAt: heard } })).toBe(
      'Interrupted: the process training this run stopped (pid 123, last heard of 10:04:12)',
    );
    // the service's own reason ends in a parenthesis: the facts go inside it
    expect(
      describeEvent({
        kind: 'interrupted',
        at,
        data: { reason: 'the process training this run stopped without finishing it (crash, kill or power loss)', pid: 77, lastHeartbeatAt: heard },
      }),
    ).toBe('Interrupted: the process training this run stopped without finishing it (crash, kill or power loss; pid 77, last heard of 10:04:12)');
    // heard of on an earlier day than the event: the date too
    const nextDay = new Date(2024, 4, 7, 8, 0, 0).toISOString();
    expect(describeEvent({ kind: 'interrupted', at: nextDay, data: { reason: 'x', pid: null, lastHeartbeatAt: heard } })).toBe(
      'Interrupted: x (last heard of 2024-05-06 10:04:12)',
    );
    // a run queued when its service stopped has no process to name
    expect(describeEvent({ kind: 'interrupted', data: { reason: 'queued when the previous service stopped' } })).toBe(
      'Interrupted: queued when the previous service stopped',
    );
    expect(describeEvent({ kind: 'interrupted', data: {} })).toBe('Interrupted: the process training this run stopped');
  });

  it('says how a run resumed: automatically after a crash or by hand, and from which checkpoint', () => {
    const mid = { mode: 'checkpoint', checkpointId: 9, checkpointEpoch: 3, checkpointKind: 'mid-epoch', stepInEpoch: 120 };
    expect(describeEvent({ kind: 'resume', data: { ...mid, auto: true, fromStatus: 'interrupted' } })).toBe(
      'Resumed automatically after a crash from the mid-epoch checkpoint at epoch 3 step 120',
    );
    expect(describeEvent({ kind: 'resume', data: { ...mid, auto: false, fromStatus: 'stopped' } })).toBe(
      'Resumed from the mid-epoch checkpoint at epoch 3 step 120 (it was stopped)',
    );
    expect(
      describeEvent({
        kind: 'resume',
        data: { mode: 'checkpoint', auto: false, fromStatus: 'interrupted', checkpointEpoch: 2, checkpointKind: 'epoch', stepInEpoch: null },
      }),
    ).toBe('Resumed from the checkpoint at the end of epoch 2 (it was interrupted)');
    expect(describeEvent({ kind: 'resume', data: { mode: 'restart', auto: true, fromStatus: 'interrupted', checkpointId: null, checkpointEpoch: null } })).toBe(
      'Restarted automatically after a crash from where it started: it had no checkpoint of its own yet',
    );
    expect(describeEvent({ kind: 'resume', data: { mode: 'in-place' } })).toBe('Resumed where it was paused');
    // an event of an older build, without a mode
    expect(describeEvent({ kind: 'resume', data: {} })).toBe('Resumed');
    expect(describeEvent({ kind: 'pause', data: {} })).toBe('Paused');
  });

  it('says a checkpoint write failed and that Resume writes it again', () => {
    const message =
      'writing the mid-epoch checkpoint of epoch 3 into /data/runs/4 failed: ENOSPC (ENOSPC: no space left on device, write). The previous checkpoint and the database are intact; free disk space and resume the run to write it again';
    expect(describeEvent({ kind: 'error', data: { message, code: 'CHECKPOINT_WRITE_FAILED', path: '/data/runs/4' } })).toBe(
      'Checkpoint write failed: writing the mid-epoch checkpoint of epoch 3 into /data/runs/4 failed: ENOSPC (ENOSPC: no space left on device, write). Free disk space, then Resume to write it again',
    );
    // another I/O error: the disk, not its space
    expect(
      describeEvent({
        kind: 'error',
        data: { message: 'writing the epoch checkpoint of epoch 1 into /d failed: EIO (i/o error)', code: 'CHECKPOINT_WRITE_FAILED' },
      }),
    ).toBe('Checkpoint write failed: writing the epoch checkpoint of epoch 1 into /d failed: EIO (i/o error). Fix the disk, then Resume to write it again');
    // any other error: its code and message
    expect(describeEvent({ kind: 'error', data: { message: 'loss diverged at epoch 2', code: 'DIVERGED' } })).toBe(
      'Error (DIVERGED): loss diverged at epoch 2',
    );
    expect(describeEvent({ kind: 'error', data: { message: 'boom', code: 'INTERNAL' } })).toBe('Error: boom');
  });

  it('passes on service notes such as a stopped auto-resume or a spot interruption notice', () => {
    const loop = 'auto-resume stopped: the run crashed within a minute of resuming 3 times in a row; fix the cause (see its log), then resume it by hand';
    expect(describeEvent({ kind: 'note', data: { message: loop } })).toBe(loop);
    const spot = 'EC2 spot interruption: the instance will be terminated at 2024-05-06T10:06:00Z';
    expect(describeEvent({ kind: 'note', data: { message: spot, interruption: { kind: 'spot', action: 'terminate' } } })).toBe(spot);
  });

  it('says a stop request; leaves unknown shapes to their raw data', () => {
    expect(describeEvent({ kind: 'status', data: { action: 'stop-requested' } })).toBe('Stop requested');
    expect(describeEvent({ kind: 'status', data: { action: 'stop-requested', reason: 'service shutting down' } })).toBe(
      'Stop requested: service shutting down',
    );
    expect(describeEvent({ kind: 'status', data: { action: 'x' } })).toBeNull();
    expect(describeEvent({ kind: 'error', data: {} })).toBeNull();
  });
});
