// pino's worker thread does not inherit tsx's hooks from `node --import tsx`: this plain-JS entry
// loads the transport's TypeScript source through tsx's API. Installed from npm, the target is
// `@observai/sdk/pino` (built JavaScript) and needs nothing of the sort.
import { tsImport } from 'tsx/esm/api';

const { default: transport } = await tsImport('../src/pino.ts', import.meta.url);
export default transport;
