// A module resolution hook for running the CLI from source in the ObservAI repository (observai.js):
// what `node --conditions=@observai/source` does, for `#sdk` only.
export async function resolve(specifier, context, next) {
  if (specifier === '#sdk') return next(specifier, { ...context, conditions: [...context.conditions, '@observai/source'] });
  return next(specifier, context);
}
