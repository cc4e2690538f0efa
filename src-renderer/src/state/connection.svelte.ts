// Transport state for the "service disconnected" banner (WebSocket or Electron's supervisor).
import { api } from '../api';
import type { ConnectionState } from '../api';

class ConnectionStore {
  state = $state<ConnectionState>('connecting');
  detail = $state<string | null>(null);
  /** true once the first connection opened: before that we show a loading screen, not an error */
  everOpen = $state(false);

  constructor() {
    api.onConnection((s, d) => {
      this.state = s;
      this.detail = d;
      if (s === 'open') this.everOpen = true;
    });
  }
}

export const connection = new ConnectionStore();
