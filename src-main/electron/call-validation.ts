// Checks what the renderer asks for before main forwards it to the service: the renderer is
// untrusted input (it renders dataset file names, error text, …), so only declared commands
// with schema-valid params cross into the service. Pure; ipc-bridge.ts applies it.
import { COMMANDS, EVENT_NAMES, type CommandName, type EventName } from '../../src-shared/api/contract';
import { WorkstationError } from '../../src-shared/errors';

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && (EVENT_NAMES as readonly string[]).includes(name);
}

/** Returns the parsed params (defaults applied) or throws INVALID_COMMAND / INVALID_ARGUMENT. */
export function validateCall(command: unknown, params: unknown): { command: CommandName; params: unknown } {
  if (!isCommandName(command)) {
    throw new WorkstationError('INVALID_COMMAND', `unknown command ${JSON.stringify(command)}; known: ${Object.keys(COMMANDS).join(', ')}`, {
      field: 'command',
    });
  }
  const parsed = COMMANDS[command].params.safeParse(params ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
    throw new WorkstationError(
      'INVALID_ARGUMENT',
      `${command}: ${field ? `${field}: ` : ''}${issue?.message ?? 'invalid params'}`,
      field ? { field: `params.${field}` } : {},
    );
  }
  return { command, params: parsed.data };
}
