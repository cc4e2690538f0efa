// Which view is shown and which run it is about, mirrored in location.hash (#/dashboard/3) so
// reloads and the back button keep the place.
export const VIEWS = ['runs', 'dashboard', 'new', 'tuner', 'checkpoints', 'export', 'system'] as const;
export type View = (typeof VIEWS)[number];

function parseHash(hash: string): { view: View; runId: number | null } {
  const [, v, id] = hash.replace(/^#/, '').split('/');
  const view = (VIEWS as readonly string[]).includes(v) ? (v as View) : 'runs';
  const n = Number(id);
  return { view, runId: Number.isInteger(n) && n > 0 ? n : null };
}

class NavStore {
  view = $state<View>('runs');
  runId = $state<number | null>(null);
  /** a form preset requested by the link that opened the view ("Start a run on the demo dataset") */
  preset = $state<'demo' | null>(null);

  constructor() {
    const init = parseHash(location.hash);
    this.view = init.view;
    this.runId = init.runId;
    window.addEventListener('hashchange', () => {
      const h = parseHash(location.hash);
      this.view = h.view;
      this.runId = h.runId;
    });
  }

  go(view: View, runId: number | null = this.runId): void {
    this.view = view;
    this.runId = runId;
    const hash = `#/${view}${runId !== null ? `/${runId}` : ''}`;
    if (location.hash !== hash) history.pushState(null, '', hash);
  }
}

export const nav = new NavStore();
