/**
 * `#sdk` in this repository (package.json#imports, conditions `types` and `@observai/source`): the
 * SDK's TypeScript source, so the root type-check and the tests (`node --conditions=@observai/source
 * --import tsx`) need no build. A published install resolves `#sdk` to `@observai/sdk` instead.
 */
export * from '../../sdk/src/index.ts';
