// What a command handler is: a function from validated params to the contract's result type.
// Each file in handlers/ creates the handlers of one command group from a shared context.
import type { CommandName, CommandParamsParsed, CommandResult } from '../../../src-shared/api/contract';
import type { Settings, SettingsPatch } from '../../../src-shared/config/settings';
import type { AppPaths } from '../../common/paths';
import type { Store } from '../../store/index';
import type { DatasetRoots } from '../dataset-roots';
import type { Emit, LogFn, RunManager } from '../run-manager';

export type Handler<C extends CommandName> = (params: CommandParamsParsed<C>) => Promise<CommandResult<C>> | CommandResult<C>;
export type Handlers = { [C in CommandName]?: Handler<C> };

export interface HandlerContext {
  store: Store;
  runs: RunManager;
  paths: AppPaths;
  datasetRoots: DatasetRoots;
  emit: Emit;
  log: LogFn;
  /** the data dir's app settings (settings.json): read, and change (applied at once where they can be) */
  settings: { get(): Settings; set(patch: SettingsPatch): Promise<Settings> };
}
