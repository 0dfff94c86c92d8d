/**
 * Who may call the alerts routes, as their OpenAPI descriptions say it (src/http/openapi.ts): what
 * readerClaims and writerClaims (src/http/actor.ts) accept.
 */

/** A signed-in user, or a project API key with the read scope. */
export const READER = { auth: ['user', 'apiKey'], scope: 'read' } as const;
/** A signed-in user, or a project API key with the admin scope (CI applying rules files); RLS decides the rest. */
export const WRITER = { auth: ['user', 'apiKey'], scope: 'admin' } as const;
