import type { Command } from 'commander';
import { stringify as stringifyToml } from 'smol-toml';
import { loadConfig, resolveConfigLocation } from '../../config/load.js';

/** `tasker config show [--env NAME] [--json]`: prints the merged, validated configuration. */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect the Tasker configuration');
  config
    .command('show')
    .description(
      'print the configuration after merging base/, environments/<env>/ and environment variables ' +
        '(root: TASKER_CONFIG_ROOT or ./config/tasker)',
    )
    .option('--env <name>', 'environment to merge over base (default: TASKER_ENV)')
    .option('--json', 'print JSON instead of TOML')
    .action(async (options: { env?: string; json?: boolean }) => {
      const where = options.env === undefined ? {} : { env: options.env };
      const location = resolveConfigLocation(where);
      const merged = await loadConfig(where);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(merged, null, 2)}\n`);
        return;
      }
      const header = `# tasker configuration: root ${location.root}, environment ${location.env ?? '(none)'}\n\n`;
      process.stdout.write(`${header}${stringifyToml(merged)}`);
    });
}
