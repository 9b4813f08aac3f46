/** ESM TypeScript through ts-jest; run with node --experimental-vm-modules (see package.json). */
export default {
  preset: "ts-jest/presets/default-esm",
  testEnvironment: "node",
  roots: ["<rootDir>/tests", "<rootDir>/src"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/", "/tests/live/"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json", diagnostics: { warnOnly: false } }],
  },
  // Builds the llama-server the llama-server suites run against when it is missing (once, cached outside the repo).
  globalSetup: "<rootDir>/tests/globalSetup.js",
  testTimeout: 60000,
  // Jest's default is one worker on two cores; many suites wait on child processes and servers, so two workers take
  // the suite from about 9 to about 5.5 minutes here (both pass in full).
  maxWorkers: 2,
};
