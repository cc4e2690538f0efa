// Which view is shown and which run (and checkpoint) it is about, mirrored in location.hash
// (#/dashboard/3, #/evaluation/3/12) so reloads and the back button keep the place.
export const VIEWS = ['runs', 'dashboard', 'new', 'tuner', 'checkpoints', 'evaluation', 'export', 'system'] as const;
export type View = (typeof VIEWS)[number];

/** a positive integer part of the hash, else null */
function idOf(part: string | undefined): number | null {
  const n = Number(part);
  return part !== undefined && Number.isInteger(n) && n > 0 ? n : null;
}

function parseHash(hash: string): { view: View; runId: number | null; checkpointId: number | null } {
  const [, v, id, ckpt] = hash.replace(/^#/, '').split('/');
  const view = (VIEWS as readonly string[]).includes(v) ? (v as View) : 'runs';
  return { view, runId: idOf(id), checkpointId: idOf(ckpt) };
}

class NavStore {
  view = $state<View>('runs');
  runId = $state<number | null>(null);
  /** the checkpoint a view is about (the Evaluation view: #/evaluation/<run>/<checkpoint>) */
  checkpointId = $state<number | null>(null);
  /** a form preset requested by the link that opened the view ("Start a run on the demo dataset") */
  preset = $state<'demo' | null>(null);

  constructor() {
    const init = parseHash(location.hash);
    this.view = init.view;
    this.runId = init.runId;
    this.checkpointId = init.checkpointId;
    window.addEventListener('hashchange', () => {
      const h = parseHash(location.hash);
      this.view = h.view;
      this.runId = h.runId;
      this.checkpointId = h.checkpointId;
    });
  }

  go(view: View, runId: number | null = this.runId, checkpointId: number | null = null): void {
    this.view = view;
    this.runId = runId;
    this.checkpointId = runId !== null ? checkpointId : null;
    const hash = `#/${view}${runId !== null ? `/${runId}${this.checkpointId !== null ? `/${this.checkpointId}` : ''}` : ''}`;
    if (location.hash !== hash) history.pushState(null, '', hash);
  }
}

export const nav = new NavStore();
