/** Public surface of the config module (see load.ts for the path rules). */
export * from './schema.js';
export { loadConfig, validateConfig, checkConfigFile, parseConfigText, defaultConfigPath, packageRoot } from './load.js';
export type { ValidateOptions, CheckResult } from './load.js';
export { resolveSecret, findSecretRefs, checkSecrets } from './secrets.js';
export type { SecretEnvironment } from './secrets.js';
export { yamlPath, type ConfigIssue } from './validate.js';
