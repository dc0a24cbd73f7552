import type { Command } from 'commander';
import { exampleConfigYaml } from '../config/example.js';
import { ConfigError, loadConfig } from '../config/load.js';

export function registerConfig(program: Command): void {
  const cmd = program.command('config').description('check a configuration file, or print an example with every option');
  cmd
    .command('check')
    .description('validate the configuration the server would load and print it with every default filled in')
    .argument('[file]', 'YAML file (default: $DEEPWATCH_CONFIG, else ./deepwatch.yaml if present)')
    .option('--json', 'print the resolved configuration as JSON')
    .action((file: string | undefined, opts: { json?: boolean }) => {
      try {
        const { config, file: used } = loadConfig({ path: file ?? null });
        if (opts.json) process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
        else process.stdout.write(`${used ?? 'defaults'}: ok\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = 2;
      }
    });
  cmd
    .command('example')
    .description('print an example configuration with every option, its default and its bounds')
    .action(() => {
      process.stdout.write(exampleConfigYaml());
    });
}
