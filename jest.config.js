/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  // thumbhash (the reference src/images/thumbhash.ts is tested against) ships ES modules only: compile it to
  // CommonJS for Jest.
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
