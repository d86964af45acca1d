#!/usr/bin/env node
/**
 * lenet-bench: train and run LeNet on interchangeable backends and compare them.
 * Exit codes (EXIT in errors.ts; README "Exit codes"): 0 ok, 1 a data/format/runtime error
 * (one line, no stack unless --debug), 2 a usage error (unknown command/flag, bad flag value,
 * unusable output path), 3 completed but one or more cells/runs failed (run, reproduce),
 * 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { createRequire } from 'node:module';
import { describeError, describeFsError, UsageError } from './errors.js';
import { coldStartCount, dataDirPath, datasetName, fraction, modelName, momentumFactor, weightDecay, positiveInt, positiveNumber, nonNegativeInt, threadCount } from './options.js';
import { summaryCommand } from './commands/summary.js';
import { dataCommand } from './commands/data.js';
import { initCommand } from './commands/init.js';
import { backendsCommand } from './commands/backends.js';
import { trainCommand } from './commands/train.js';
import { evalCommand } from './commands/eval.js';
import { exportOnnxCommand } from './commands/export-onnx.js';
import { backendList, batchSizeList, runCommand, shardArg, threadList } from './commands/run.js';
import { compareCommand, mergeCommand, reportCommand } from './commands/report.js';
import { parseSeeds, reproduceCommand, trainBackendList } from './commands/reproduce.js';
import { browserCommand } from './browser/command.js';
import { setAllowLargeModel } from './weights.js';
import { enableChildWasmFeaturesHere } from './run/node-runtime.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

function buildProgram(): Command {
  const program = new Command('lenet-bench')
    .description('Train and run LeNet (d2l 7.6) on TensorFlow.js, ONNX Runtime and plain TypeScript backends, and compare them.')
    .version(version)
    .option('--debug', 'show stack traces for errors')
    .option('--allow-large-model', 'skip the model memory bound (50M parameters, 256 MiB of activations per batch of 1000)')
    .exitOverride()
    .showHelpAfterError('(run lenet-bench --help, or lenet-bench <command> --help, for usage)')
    .configureHelp({ sortSubcommands: false });

  const model = () => new Option('--model <name|spec.json>', 'model preset (lenet5, lenet5-modern) or a spec JSON file').argParser(modelName).default('lenet5');
  const dataset = () => new Option('--dataset <name>', 'fashion-mnist or mnist').argParser(datasetName).default('fashion-mnist');
  const dataDir = () => new Option('--data-dir <dir>', 'folder holding the IDX files (also: LENET_DATA_DIR)').argParser(dataDirPath);
  const json = () => new Option('--json', 'machine-readable JSON lines on stdout');
  const threads = () => new Option('--threads <n>', 'threads for the backend (default: all cores; at most 4x the cores)').argParser(threadCount);

  program
    .command('summary')
    .description("layer table of a model: output shapes, parameters, multiply-adds (d2l's layer_summary)")
    .addOption(model())
    .addOption(json())
    .action(summaryCommand);

  program
    .command('data')
    .description('locate and verify a dataset (SHA-256), print its source, counts and per-class counts')
    .addOption(dataset())
    .addOption(dataDir())
    .addOption(json())
    .action(dataCommand);

  program
    .command('init')
    .description('write seeded initial weights (Xavier-uniform, zero bias) as safetensors')
    .addOption(model())
    .requiredOption('--seed <n>', 'PRNG seed', nonNegativeInt)
    .requiredOption('--out <file.safetensors>', 'output file (written atomically)')
    .addOption(json())
    .action(initCommand);

  program
    .command('backends')
    .description('list backends, whether they can train, and whether they run here')
    .addOption(json())
    .action(backendsCommand);

  program
    .command('train')
    .description('train a model with SGD on one backend, print per-epoch metrics, save the weights')
    .option('--backend <name>', 'backend to train on (see lenet-bench backends)', 'plain')
    .addOption(model())
    .addOption(dataset())
    .addOption(dataDir())
    .option('--epochs <n>', 'epochs', positiveInt, 10)
    .option('--batch-size <n>', 'minibatch size', positiveInt, 128)
    .option('--lr <x>', 'SGD learning rate', positiveNumber, 0.1)
    .option('--momentum <x>', 'SGD momentum in [0, 1) (torch.optim.SGD semantics; backends that cannot apply it refuse)', momentumFactor, 0)
    .option('--weight-decay <x>', 'L2 weight decay added to the gradient (torch.optim.SGD semantics)', weightDecay, 0)
    .option('--nesterov', 'Nesterov momentum (needs --momentum > 0)')
    .option('--seed <n>', 'seed for the initial weights and the batch order', nonNegativeInt, 0)
    .addOption(threads())
    .option('--limit <n>', 'use a stratified subset of n images per split', positiveInt)
    .option('--init <file.safetensors>', 'start from these weights instead of the seeded init')
    .option('--out <file.safetensors>', 'where to save the weights (default runs/<model>-<dataset>-<backend>-seed<S>.safetensors)')
    .option('--target-accuracy <x>', 'report the time to reach this validation accuracy', fraction)
    .option('--max-seconds <s>', 'training time budget; stops after the step that exceeds it', positiveNumber)
    .addOption(json())
    .action(trainCommand);

  program
    .command('eval')
    .description('evaluate weights on the test split: accuracy, loss, confusion matrix')
    .option('--backend <name>', 'backend to run on', 'plain')
    .requiredOption('--weights <file>', 'weights to evaluate (.safetensors, or .onnx from export-onnx)')
    .addOption(new Option('--model <name|spec.json>', 'model (default: the spec stored in the weights file, else lenet5; must match the file)').argParser(modelName))
    .addOption(dataset())
    .addOption(dataDir())
    .option('--batch-size <n>', 'evaluation batch size', positiveInt, 1000)
    .addOption(threads())
    .option('--limit <n>', 'evaluate a stratified subset of n test images', positiveInt)
    .addOption(json())
    .action(evalCommand);

  program
    .command('export-onnx')
    .description('export weights (safetensors or ONNX) as an ONNX inference model: input "input" [N,1,28,28], output "logits"')
    .requiredOption('--weights <file>', 'weights to export (.safetensors, or .onnx from this tool)')
    .requiredOption('--out <file.onnx>', 'output file (written atomically)')
    .addOption(new Option('--model <name|spec.json>', 'model (default: the spec stored in the weights file, else lenet5; must match the file)').argParser(modelName))
    .addOption(new Option('--opset <n>', 'ONNX opset: 13, 14 or 15').default(13).argParser((v) => {
      if (!['13', '14', '15'].includes(v)) throw new InvalidArgumentError('expected 13, 14 or 15.');
      return Number(v);
    }))
    .addOption(json())
    .action(exportOnnxCommand);

  program
    .command('run')
    .description('benchmark every backend on identical work (each in its own process): training, test accuracy, inference latency/throughput, memory, cross-backend agreement; writes report.json/md/html')
    .option('--backends <a,b,...>', 'backends to run (default: every available Node backend; "pytorch" names the reference)', backendList)
    .addOption(model())
    .addOption(dataset())
    .addOption(dataDir())
    .addOption(new Option('--profile <name>', 'quick: d2l recipe until 70% (time to accuracy), slow backends budget-limited; full: the whole d2l recipe (10 epochs); smoke: a few seconds, for tests').choices(['quick', 'full', 'smoke']).default('quick'))
    .option('--epochs <n>', 'epochs (default: 10; smoke: 1)', positiveInt)
    .option('--seed <n>', 'seed of the initial weights and the batch order (same for every backend)', nonNegativeInt, 0)
    .option('--threads <n|list>', 'threads per backend (default: all cores); a list such as 1,2 runs every backend once per count (thread-scaling chart)', threadList)
    .option('--target-accuracy <x>', 'record the training time to reach this validation accuracy', fraction, 0.7)
    .option('--out <dir>', 'report folder (default: reports/<timestamp>/ in the repo root)')
    .option('--resume <dir>', 'continue an interrupted run in this folder: finished cells are kept')
    .option('--no-torch', 'skip the PyTorch reference even when python3 can import torch')
    .option('--no-peaks', 'do not measure the machine peaks (native GEMM, WebAssembly SIMD) for the roofline column')
    .option('--shard <i/n>', 'run only shard i of n of the cells (every n-th; the PyTorch reference in every shard); join the shards with lenet-bench merge', shardArg)
    .addOption(new Option('--limit <n>', 'use stratified subsets of n images per split (development)').argParser(positiveInt).hideHelp())
    .addOption(new Option('--train-steps <n>', 'at most n training steps per epoch (development)').argParser(positiveInt).hideHelp())
    .addOption(new Option('--train-seconds <s>', 'training budget per backend in seconds (overrides the profile)').argParser(positiveNumber).hideHelp())
    .addOption(new Option('--train-window-seconds <s>', 'length of one training window in seconds (overrides the profile; development)').argParser(positiveNumber).hideHelp())
    .addOption(new Option('--inference-seconds <s>', 'inference measuring time per backend, all windows together (overrides the profile)').argParser(positiveNumber))
    .addOption(new Option('--inference-rounds <n>', 'inference rounds: each backend measures one window per batch size per round (overrides the profile; at least 6 for 95% intervals)').argParser(positiveInt))
    .option('--batch-sizes <list>', 'inference batch sizes besides 1 and 256, e.g. 8,32,128,512 (throughput-vs-batch-size chart)', batchSizeList)
    .addOption(new Option('--eval-images <n>', 'test images of the learning-curve evaluations (stratified subset; overrides the profile)').argParser(positiveInt))
    .addOption(new Option('--cold-starts <n>', 'fresh processes per backend timing the cold start: import, session, first predict, first step (default: quick 3, full 6, smoke 0; 0 = skip; at most 30)').argParser(coldStartCount))
    .addOption(new Option('--agreement-images <n>', 'test images for the agreement check (overrides the profile)').argParser(positiveInt).hideHelp())
    .addOption(json())
    .action(runCommand);

  program
    .command('report')
    .description('re-render report.md and report.html from DIR/report.json (validated against the schema)')
    .argument('<dir>', 'a folder written by lenet-bench run')
    .addOption(json())
    .action(reportCommand);

  program
    .command('compare')
    .description('two run reports side by side, with B/A ratios per backend')
    .argument('<a>', 'report folder (or report.json) A')
    .argument('<b>', 'report folder (or report.json) B')
    .addOption(json())
    .action(compareCommand);

  program
    .command('merge')
    .description('join report.json files of several machines (or shards: run --shard i/n) into one report; refuses reports whose schema, data hashes, model or recipe differ')
    .argument('<reports...>', 'report folders (or report.json files)')
    .requiredOption('--out <dir>', 'folder for the merged report.json/md/html')
    .addOption(json())
    .action(mergeCommand);

  program
    .command('reproduce')
    .description('reproduce a recipe on each backend for several seeds (one process per run, resumable): per-seed final accuracy, mean ± sd, verdict vs the reference band')
    .argument('<recipe>', 'd2l, modern, mnist (d2l 7.6 and exercises, PyTorch bands), fashion-plus, mnist-plus; fashion-wide-b128, fashion-wide-b32, fashion-wide-8-24 (earlier attempts at fashion-plus); fashion-record, mnist-record (issue 28; mnist-record a placeholder)')
    .option('--backends <a,b,...>', 'backends to train on', trainBackendList, ['plain'])
    .option('--seeds <list>', 'seeds: a range 0-4, a list 0,2,5, or both', parseSeeds, [0, 1, 2, 3, 4])
    .option('--epochs <n>', "epochs (default: the recipe's)", positiveInt)
    .option('--out <dir>', 'results folder; running again with the same folder resumes (default: reports/reproduce/<recipe>/ in the repo root)')
    .option('--validation', "train on the training split minus the recipe's validation split and evaluate on that holdout, never on the test set (default folder reports/reproduce/<recipe>-validation/)")
    .option('--lr <x>', "override the recipe's (peak) learning rate, for tuning on --validation", positiveNumber)
    .option('--momentum <x>', "override the recipe's SGD momentum, in [0, 1)", momentumFactor)
    .option('--weight-decay <x>', "override the recipe's weight decay, >= 0", weightDecay)
    .option('--agreement <a,b,...>', "afterwards, run the first finished run's final weights on these backends too: accuracy, max |Δlogit|", backendList)
    .addOption(dataDir())
    .addOption(threads())
    .addOption(new Option('--limit <n>', 'use stratified subsets of n images per split (development)').argParser(positiveInt).hideHelp())
    .addOption(json())
    .action(reproduceCommand);

  program
    .command('browser')
    .description('run the web page (apps/web) headlessly in Chromium: ort-web, TF.js and plain (Web Worker) on the test split, accuracy + latency/throughput; --report DIR merges the rows into that run')
    .option('--report <dir>', 'a folder written by lenet-bench run: use its weights, test subset and timing, and add the browser rows to its report.json/md/html')
    .option('--weights <file>', 'weights to evaluate (.safetensors from init/train/run, or an ONNX export); default with --report: its agreement weights')
    .option('--backends <a,b,...>', 'page backends (default all: ort-web-wasm, ort-web-webgpu, ort-web-webgl, tfjs-wasm, tfjs-cpu, tfjs-webgl, tfjs-webgpu, tfjs-layers-wasm, tfjs-layers-webgl, jax-js-wasm, jax-js-webgpu, plain-wasm, plain-js, except GPU ones on a software adapter such as SwiftShader, which run only when named here)', backendList)
    .addOption(new Option('--dataset <name>', 'fashion-mnist or mnist (default: the report\'s, else fashion-mnist)').argParser(datasetName))
    .addOption(dataDir())
    .option('--limit <n|all>', 'stratified subset of n test images (default: the report\'s, else all)')
    .option('--inference-seconds <s>', 'timing per batch size (default: the report\'s, else 1)', positiveNumber)
    .option('--chromium <path>', 'browser executable (default /usr/bin/chromium, or LENET_CHROMIUM)')
    .option('--app <dir>', 'the built page (default apps/web/dist; pnpm --filter @lenet/web build)')
    .option('--screenshot <file.png>', 'save a screenshot of the page (default with --report: DIR/browser.png)')
    .addOption(new Option('--cold-starts <n>', 'also time each page backend that ran in n fresh documents (new iframes): import + available(), createSession, first predict, first step (default 0; at most 30)').argParser(coldStartCount))
    .option('--train-steps <n>', 'also train each chosen page backend that can train for at most n steps (one epoch) from the seed\'s initial weights, with the report\'s recipe and subsets (else the CLI defaults, full train split); adds "<id> training @ <browser>" rows', positiveInt)
    .addOption(json())
    .action(browserCommand);

  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError(`(run lenet-bench ${cmd.name()} --help for usage)`);
  return program;
}

/** Our packages throw named Error subclasses for user mistakes; built-in errors are bugs. */
function isUserFacing(err: unknown): boolean {
  return err instanceof Error && !['Error', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError'].includes(err.name);
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const debug = argv.includes('--debug');
  setAllowLargeModel(argv.includes('--allow-large-model'));
  // In-process commands (backends, train, eval) get the engine features the run's children get.
  enableChildWasmFeaturesHere();
  try {
    if (argv.length <= 2) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed the message (and the help hint).
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n(run lenet-bench --help for usage)\n`);
      return 2;
    }
    const fsError = describeFsError(err);
    process.stderr.write(`error: ${fsError ?? describeError(err)}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    else if (!fsError && !isUserFacing(err)) process.stderr.write('(unexpected error; run with --debug for the stack trace)\n');
    return 1;
  }
}

// Exit explicitly: a native runtime or worker must not keep a finished command alive.
process.exit(await main(process.argv));
