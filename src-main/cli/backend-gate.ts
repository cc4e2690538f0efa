// The self-test gate (service/selftest-gate.ts) for what the CLI runs on a backend without the
// service: `lr-find` and `eval` of a checkpoint file the store does not know. As in the service, a
// native backend must have passed its self-test for this tfjs + libtensorflow version (run first
// when the database has no result, and stored there); a failed one refuses with SELFTEST_FAILED
// unless the config sets train.allowFailedSelftest. The pure-JS cpu backend opens no database.
import type { RunConfig } from '../../src-shared/config/run-config';
import type { ParsedArgs } from '../common/args';
import { parseFaults } from '../service/fault-injection';
import { openStore } from '../store/index';
import type { CliIO } from './command';
import { resolveDbPath } from './db-flag';

export async function gateBackendForCli(config: Readonly<RunConfig>, args: ParsedArgs, io: CliIO): Promise<void> {
  const faults = parseFaults(io.env); // tests only (the stand-in backend and a perturbed kernel)
  const [{ applyBackendFaults }, { selectBackend }] = await Promise.all([import('../service/test-backends'), import('../ml/backend')]);
  applyBackendFaults(faults);
  if ((await selectBackend(config.backend)).name === 'cpu') return;
  const { gateRunBackend } = await import('../service/selftest-gate');
  const store = openStore(resolveDbPath(args, io));
  try {
    await gateRunBackend(config, null, {
      store,
      emit: () => undefined,
      log: (level, msg) => {
        if (level !== 'debug') io.stderr(`[${level}] ${msg}\n`);
      },
      faults,
      note: () => undefined,
    });
  } finally {
    store.close();
  }
}
