// Desktop notifications in the Electron app: the service's 'notify' events (a run completed,
// failed, diverged, stalled or starved; see service/notify/) become native notifications when
// settings.notifications.desktop is on and the OS supports them; a click brings the window up.
// Electron's Notification class is passed in, so the decision is tested without Electron.
import type { Notice } from '../../src-shared/api/schemas';
import { NoticeSchema } from '../../src-shared/api/schemas';

export interface NativeNotification {
  show(): void;
  on(event: 'click', listener: () => void): unknown;
}

/** What main needs of Electron's `Notification` (constructor + static isSupported). */
export interface NotificationClass {
  new (opts: { title: string; body: string; silent?: boolean }): NativeNotification;
  isSupported(): boolean;
}

/** The notice to show for a service event, or null: not a notice, malformed, or desktop notifications off. */
export function desktopNotice(event: string, payload: unknown): Notice | null {
  if (event !== 'notify') return null;
  const parsed = NoticeSchema.safeParse(payload);
  if (!parsed.success || !parsed.data.desktop) return null;
  return parsed.data;
}

/** A handler for every service event main receives; shows the notices. */
export function createDesktopNotifier(deps: { Notification: NotificationClass; onClick?(n: Notice): void }): (event: string, payload: unknown) => void {
  return (event, payload) => {
    const n = desktopNotice(event, payload);
    if (!n || !deps.Notification.isSupported()) return;
    const native = new deps.Notification({ title: n.title, body: n.body });
    native.on('click', () => deps.onClick?.(n));
    native.show();
  };
}
