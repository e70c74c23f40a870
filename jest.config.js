/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  // thumbhash (the picture info's ThumbHash) ships ES modules only: compile it to CommonJS for Jest (Node
  // 20.19+ loads it from the CommonJS build by require() itself).
  transform: {
    '^.+\\.ts$': 'ts-jest',
    '/node_modules/thumbhash/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', moduleResolution: 'node10', verbatimModuleSyntax: false } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!thumbhash/)'],
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 30000,
  maxWorkers: 2,
};
