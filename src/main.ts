import { loadDotEnv, runCli } from './cli/index.js'

// The process entry point of `npm start` and of bin/keygate.js: the only place,
// with cli/, that touches process. With no command it serves.
loadDotEnv()
const argv = process.argv.slice(2)
const code = await runCli(argv.length > 0 ? argv : ['serve'], process)
process.exit(code)
