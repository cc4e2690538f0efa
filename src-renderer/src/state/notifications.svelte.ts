// The service's notices (a run completed, failed, diverged, stalled or starved) as the browser's
// desktop notifications in a tab (`workstation serve`), once the user allowed them; in Electron,
// main shows them natively (src-main/electron/desktop-notify.ts), so the page does not. The last
// few are kept for the System view.
import type { Notice } from '../../../src-shared/api/schemas';
import { api } from '../api';

type Permission = 'default' | 'granted' | 'denied' | 'unsupported';

const supported = (): boolean => typeof window !== 'undefined' && 'Notification' in window;

class NotificationsStore {
  recent = $state<Notice[]>([]);
  permission = $state<Permission>(supported() ? (Notification.permission as Permission) : 'unsupported');
  /** the browser shows the notices itself (a tab; Electron's main shows them natively) */
  readonly inPage = api.platform === 'browser';

  constructor() {
    api.on('notify', (n) => {
      this.recent = [n, ...this.recent].slice(0, 5);
      this.show(n);
    });
  }

  show(n: Notice): void {
    if (!this.inPage || !n.desktop || !supported()) return;
    this.permission = Notification.permission as Permission;
    if (Notification.permission !== 'granted') return;
    try {
      const shown = new Notification(n.title, { body: n.body, tag: n.id });
      shown.onclick = () => {
        window.focus();
        location.hash = `#/dashboard/${n.runId}`;
      };
    } catch {
      /* some browsers allow notifications only from a service worker: the System view lists them */
    }
  }

  /** asks the browser (must run from a click) */
  async request(): Promise<void> {
    if (!supported()) return;
    this.permission = (await Notification.requestPermission()) as Permission;
  }
}

export const notifications = new NotificationsStore();
