// Electron main's desktop notifications without Electron: a stand-in for its Notification class
// records what would be shown. Only valid 'notify' events with desktop on are shown, never when
// the OS has no notification support, and a click reaches main's handler with the notice.
import { describe, expect, it } from 'vitest';
import type { Notice } from '../../src-shared/api/schemas';
import { createDesktopNotifier, desktopNotice, type NativeNotification } from '../../src-main/electron/desktop-notify';

function fakeNotification(supported: boolean) {
  const shown: { title: string; body: string }[] = [];
  const clicks: (() => void)[] = [];
  class Fake implements NativeNotification {
    static isSupported = () => supported;
    constructor(private readonly opts: { title: string; body: string }) {}
    on(_e: 'click', l: () => void) {
      clicks.push(l);
      return this;
    }
    show() {
      shown.push({ title: this.opts.title, body: this.opts.body });
    }
  }
  return { Fake, shown, clicks };
}

const notice = (over: Partial<Notice> = {}): Notice => ({
  id: 'n1',
  kind: 'completed',
  runId: 3,
  runName: 'demo',
  title: 'Run #3 demo completed',
  body: 'epoch 3/3, best val top-1 41.2 %',
  at: '2026-12-01T10:00:00.000Z',
  desktop: true,
  ...over,
});

describe('desktop notifications (Electron main)', () => {
  it('shows a notify event as a native notification; a click reaches main with the notice', () => {
    const { Fake, shown, clicks } = fakeNotification(true);
    const clicked: Notice[] = [];
    const handle = createDesktopNotifier({ Notification: Fake, onClick: (n) => clicked.push(n) });
    handle('notify', notice());
    expect(shown).toEqual([{ title: 'Run #3 demo completed', body: 'epoch 3/3, best val top-1 41.2 %' }]);
    clicks[0]();
    expect(clicked.map((n) => n.runId)).toEqual([3]);
  });

  it('ignores other events, malformed notices, notices with desktop off, and an OS without notifications', () => {
    expect(desktopNotice('run.status', notice())).toBeNull();
    expect(desktopNotice('notify', { ...notice(), kind: 'exploded' })).toBeNull();
    expect(desktopNotice('notify', notice({ desktop: false }))).toBeNull();
    expect(desktopNotice('notify', notice({ kind: 'stalled' }))?.kind).toBe('stalled');
    const on = fakeNotification(true);
    const handle = createDesktopNotifier({ Notification: on.Fake });
    handle('log.line', { level: 'info', message: 'x', runId: null, at: '' });
    handle('notify', notice({ desktop: false }));
    expect(on.shown).toEqual([]);
    const off = fakeNotification(false);
    createDesktopNotifier({ Notification: off.Fake })('notify', notice());
    expect(off.shown).toEqual([]);
  });
});
