// state.get: what a client connecting mid-run needs before it follows events (active run, last
// progress, queue, augmentation in effect).
import type { HandlerContext, Handlers } from './types';

export function createStateHandlers(ctx: HandlerContext): Handlers {
  return { 'state.get': () => ctx.runs.state() };
}
