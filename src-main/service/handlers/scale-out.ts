// scaleOut.report: a PyTorch DDP continuation (train_ddp.py of a scale-out folder) reporting a record live.
import { reportScaleOut } from '../scale-out/report';
import type { HandlerContext, Handlers } from './types';

export function createScaleOutHandlers(ctx: HandlerContext): Handlers {
  return {
    'scaleOut.report': (params) => reportScaleOut({ store: ctx.store, paths: ctx.paths, emit: ctx.emit }, params),
  };
}
