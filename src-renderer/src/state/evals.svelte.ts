// Evaluations as the service reports them: the jobs it runs or queued (kept current by
// eval.progress events, reloaded on every reconnect), the stored evaluations of the checkpoints the
// user looked at, and the details of the ones opened (kept as raw state: a 1000-class table and
// its confusions need no deep reactivity).
import { api } from '../api';
import type { CommandParams } from '../../../src-shared/api/contract';
import type { EvalJob, Evaluation, EvaluationSummary } from '../../../src-shared/api/schemas';

const ENDED: readonly EvalJob['state'][] = ['completed', 'cancelled', 'failed'];
export const jobEnded = (j: EvalJob): boolean => ENDED.includes(j.state);

class EvalsStore {
  jobs = $state<Record<number, EvalJob>>({});
  /** stored evaluations per checkpoint id, newest first */
  byCheckpoint = $state<Record<number, EvaluationSummary[]>>({});
  details = $state.raw<Record<number, Evaluation>>({});

  constructor() {
    api.onConnection((s) => {
      if (s === 'open') void this.refresh().catch(() => undefined);
    });
    api.on('eval.progress', (j) => {
      const was = this.jobs[j.evalId];
      this.jobs[j.evalId] = j;
      if (j.state === 'completed' && was?.state !== 'completed') void this.loadList(j.checkpointId).catch(() => undefined);
    });
  }

  async refresh(): Promise<void> {
    const list = await api.call('eval.jobs', {});
    const next: Record<number, EvalJob> = {};
    for (const j of list) next[j.evalId] = j;
    this.jobs = next;
    await Promise.all(Object.keys(this.byCheckpoint).map((id) => this.loadList(Number(id))));
  }

  /** the newest job of a checkpoint (live or ended), or null */
  latestJob(checkpointId: number | null): EvalJob | null {
    if (checkpointId === null) return null;
    let best: EvalJob | null = null;
    for (const j of Object.values(this.jobs)) if (j.checkpointId === checkpointId && (!best || j.evalId > best.evalId)) best = j;
    return best;
  }

  async start(params: CommandParams<'eval.start'>): Promise<EvalJob> {
    const job = await api.call('eval.start', params);
    this.jobs[job.evalId] = this.jobs[job.evalId] && jobEnded(this.jobs[job.evalId]) ? this.jobs[job.evalId] : job;
    return job;
  }

  async cancel(evalId: number): Promise<void> {
    const job = await api.call('eval.cancel', { evalId });
    if (!this.jobs[evalId] || !jobEnded(this.jobs[evalId])) this.jobs[evalId] = job;
  }

  async loadList(checkpointId: number): Promise<EvaluationSummary[]> {
    const list = await api.call('eval.list', { checkpointId });
    this.byCheckpoint[checkpointId] = list;
    return list;
  }

  /** one stored evaluation's details, loaded once (they never change) */
  async get(evaluationId: number): Promise<Evaluation> {
    const cached = this.details[evaluationId];
    if (cached) return cached;
    const e = await api.call('eval.get', { evaluationId });
    this.details = { ...this.details, [evaluationId]: e };
    return e;
  }
}

export const evalsStore = new EvalsStore();
