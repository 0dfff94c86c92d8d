import type { Deps } from '../core/deps.ts';
import { AppError, forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { checkKey } from './layout.ts';
import { ObjectStoreError, openObjectStore } from './object-store.ts';
import { type CreateDestination, DESTINATION_COLUMNS, type DestinationRow, toDestinationView } from './schemas.ts';
import { createSecretBox, requireEncryptionKey } from '../core/secret-box.ts';

/**
 * Adds an export destination to a project (owners and admins). Before saving, a connection check
 * writes a small object, `<prefix>/<project>/_observai-check.json`, with the given credentials: a
 * PutObject proves the one permission exports need (HeadBucket would need s3:ListBucket, which
 * write-only credentials rightly lack). It connects through the outbound guard, so an endpoint at a
 * loopback, private or metadata address is refused before any byte is sent. The secret is sealed
 * with SECRET_ENCRYPTION_KEY, bound to the new destination's id, and never returned.
 */
export async function createDestination(deps: Pick<Deps, 'db' | 'clock' | 'config' | 'logger' | 'outbound'>, actor: Claims, input: CreateDestination) {
  const box = await createSecretBox(requireEncryptionKey(deps.config));
  // Permission first, so nobody's credentials are tried on behalf of a caller who may not save them.
  const project = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, input.projectId, undefined, 'body.projectId');
    const [row] = await tx.query<{ organization_id: string; may_manage: boolean }>(
      `select organization_id, organization_id in (select private.org_ids_with_role(array['owner', 'admin'])) as may_manage
       from public.projects where id = $1`,
      [projectId],
    );
    return { id: projectId, ...row! };
  });
  if (!project.may_manage) throw forbidden('Only owners and admins can add export destinations');

  const now = deps.clock.now();
  await checkConnection(deps, input, project.id, now);

  const id = crypto.randomUUID();
  const sealed = await box.seal(input.secretAccessKey, id);
  const [row] = await withClaims(deps.db, actor, (tx) =>
    tx.query<DestinationRow>(
      `insert into public.export_destinations
         (id, project_id, organization_id, name, endpoint, region, bucket, prefix, force_path_style, access_key_id, secret_ciphertext, verified_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       returning ${DESTINATION_COLUMNS}`,
      [
        id,
        project.id,
        project.organization_id,
        input.name,
        input.endpoint ?? null,
        input.region,
        input.bucket,
        input.prefix,
        input.forcePathStyle,
        input.accessKeyId,
        sealed,
        now,
      ],
    ),
  );
  return toDestinationView(row!);
}

/** S3 error codes -> the field a person should look at. */
const FIELD_BY_CODE: Record<string, string> = {
  NoSuchBucket: 'body.bucket',
  InvalidBucketName: 'body.bucket',
  InvalidAccessKeyId: 'body.accessKeyId',
  SignatureDoesNotMatch: 'body.secretAccessKey',
  AccessDenied: 'body.accessKeyId',
  PermanentRedirect: 'body.region',
  AuthorizationHeaderMalformed: 'body.region',
  IllegalLocationConstraintException: 'body.region',
};

async function checkConnection(deps: Pick<Deps, 'logger' | 'outbound'>, input: CreateDestination, projectId: string, now: Date): Promise<void> {
  const body = new TextEncoder().encode(`${JSON.stringify({ checkedAt: now.toISOString(), by: 'ObservAI Hub exports' })}\n`);
  try {
    const store = await openObjectStore(
      {
        endpoint: input.endpoint ?? null,
        region: input.region,
        bucket: input.bucket,
        forcePathStyle: input.forcePathStyle,
        accessKeyId: input.accessKeyId,
        secretAccessKey: input.secretAccessKey,
      },
      deps.outbound,
    );
    try {
      await store.put(checkKey(input.prefix, projectId), body, 'application/json');
    } finally {
      store.close();
    }
  } catch (err) {
    if (!(err instanceof ObjectStoreError)) throw err;
    // The operator learns why (a refused address, ECONNREFUSED, a non-S3 answer); the caller does not.
    deps.logger.warn({ projectId, endpoint: input.endpoint, code: err.code, detail: err.detail }, 'export destination check failed');
    // Nothing S3 answered: the endpoint (or, for AWS, the network) is the problem.
    const field = FIELD_BY_CODE[err.code] ?? (err.status === undefined ? 'body.endpoint' : 'body');
    const message = err.code === 'InvalidEndpoint' ? err.message : `The connection check could not write to the bucket: ${err.message}`;
    throw new AppError('VALIDATION_FAILED', message, { details: [{ field, message }] });
  }
}
