import { Command } from 'commander';
import { registerModel } from './model.js';
import { registerFaces } from './faces.js';
import { registerProbe } from './probe.js';
import { registerAnalyze } from './analyze.js';
import { registerServe } from './serve.js';
import { registerConfig } from './config.js';

/**
 * `deepwatch <command>`. Each sub-command lives in its own file under server/cli/ and
 * registers itself here.
 */
const program = new Command()
  .name('deepwatch')
  .description('Live deepfake monitor: watch streams for face forgeries, or analyse recorded videos')
  .showHelpAfterError();

registerProbe(program);
registerServe(program);
registerConfig(program);
registerModel(program);
registerFaces(program);
registerAnalyze(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`deepwatch: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
