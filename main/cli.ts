#!/usr/bin/env node
/** The `courtside` binary: the dispatcher on this process's streams, environment and signals. */
import { courtside } from './cli/courtside.js';
import { processIO } from './cli/io.js';

process.exitCode = await courtside(process.argv.slice(2), processIO());
