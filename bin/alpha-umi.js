#!/usr/bin/env node
// The compiled CLI (built by `npm install` / `npm ci` through the prepare script).
import "../dist/src/cli/bin.js";
