// export.csv: a run's epochs, or its lineage as one continuous series (see service/csv-export.ts).
import { exportCsv } from '../csv-export';
import type { HandlerContext, Handlers } from './types';

export function createExportHandlers(ctx: HandlerContext): Handlers {
  return {
    'export.csv': ({ runId, lineage }) => exportCsv(ctx.store, runId, { lineage }),
  };
}
