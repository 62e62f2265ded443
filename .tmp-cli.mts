import { main } from './src/cli/main.js';
process.exitCode = await main(['node', 'tasker', ...process.argv.slice(2)]);
