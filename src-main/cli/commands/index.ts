// The CLI command registry: name → lazily loaded module (so `workstation --help` does not load tfjs).
// Each module default-exports a CommandSpec. Grouped by task, in the order `workstation --help`
// lists them: training and the runs store first, then the data, model, benchmark and setup tools.
import type { CommandEntry, CommandGroup } from '../command';

export const COMMAND_GROUPS: CommandGroup[] = [
  {
    title: 'Train and manage runs',
    entries: [
      { name: 'train', summary: 'Train a run from a config file (through the store, so it shows in the app)', load: () => import('./train') },
      { name: 'resume', summary: 'Continue an interrupted or stopped run from its last checkpoint', load: () => import('./resume') },
      { name: 'serve', summary: 'Headless server: the app in a browser (HTTP + WebSocket, token, loopback)', load: () => import('./serve') },
      { name: 'runs', summary: 'List the runs in the store', load: () => import('./runs') },
      { name: 'export-csv', summary: "Export a run's (or its lineage's) epoch metrics as CSV", load: () => import('./export-csv') },
      { name: 'import-log', summary: 'Import a past training log (tqdm + print lines) as runs', load: () => import('./import-log') },
      {
        name: 'eval',
        summary: 'Evaluate a checkpoint on a split: loss, top-1/top-5, per-class table and confusions (stored with the checkpoint)',
        load: () => import('./eval'),
      },
      {
        name: 'scale-out',
        summary: 'Write a PyTorch DDP (torchrun) folder that continues a run, as a child run that reports back',
        load: () => import('./scale-out'),
      },
      { name: 'import-metrics', summary: 'Import the epochs and checkpoints a PyTorch DDP scale-out folder reported', load: () => import('./import-metrics') },
      {
        name: 'import-checkpoint',
        summary: 'Convert a PyTorch DDP checkpoint (.safetensors) back into a workstation checkpoint of its run',
        load: () => import('./import-checkpoint'),
      },
    ],
  },
  {
    title: 'Data, model, benchmark and setup tools',
    entries: [
      // --- data ---
      { name: 'data index', summary: 'Index an ImageNet folder tree and print classes, image counts and skipped files', load: () => import('./data-index') },
      {
        name: 'augment preview',
        summary: 'Write augmented samples as the model sees them (PNG) and print the drawn parameters',
        load: () => import('./augment-preview'),
      },
      // --- model / engine ---
      { name: 'model summary', summary: 'Architecture and parameter counts of a model (no weights allocated)', load: () => import('./model-summary') },
      {
        name: 'checkpoint inspect',
        summary: 'Epoch, step, architecture, metrics and weightsSha256 of a checkpoint file (verifies its checksum)',
        load: () => import('./checkpoint-inspect'),
      },
      {
        name: 'schedule',
        summary: 'Learning rate and momentum per optimizer step under a schedule policy (PyTorch OneCycleLR semantics)',
        load: () => import('./schedule'),
      },
      {
        name: 'lr-find',
        summary: 'Learning-rate range test on a config: loss per step as the lr grows, a suggested max lr (no run, nothing saved)',
        load: () => import('./lr-find'),
      },
      // --- interchange: torchvision / tfjs weights, prediction ---
      {
        name: 'export',
        summary: 'Export a checkpoint as torchvision weights (.safetensors) or a tfjs LayersModel folder',
        load: () => import('./export'),
      },
      { name: 'predict', summary: "Classify images with a checkpoint's model, using the run's validation transform", load: () => import('./predict') },
      // --- benchmarks ---
      {
        name: 'bench data',
        summary: 'Data pipeline speed: images/s of decode + crop + flip (total, per worker) and decode only',
        load: () => import('./bench-data'),
      },
      {
        name: 'bench engine',
        summary: 'Training step speed: steps/s, images/s and peak memory for a backend, batch and size',
        load: () => import('./bench-engine'),
      },
      {
        name: 'bench preview',
        summary: 'Augmentation preview latency in the service, idle and while the demo preset trains',
        load: () => import('./bench-preview'),
      },
      { name: 'bench demo', summary: 'Train the demo preset end to end: val top-1 per epoch, wall and CPU seconds', load: () => import('./bench-demo') },
      // --- setup ---
      { name: 'doctor', summary: 'Which tfjs backend would be used and why; native packages, GPU, sharp, SQLite', load: () => import('./doctor') },
    ],
  },
];

export const COMMAND_ENTRIES: CommandEntry[] = COMMAND_GROUPS.flatMap((g) => g.entries);
