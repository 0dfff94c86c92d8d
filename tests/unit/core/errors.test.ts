import { describe, expect, it } from 'vitest';
import { AppError, toAppError } from '../../../src/core/errors.ts';

describe('toAppError', () => {
  it.each([
    ['23505', 'CONFLICT', 409],
    ['23503', 'VALIDATION_FAILED', 400],
    ['23514', 'VALIDATION_FAILED', 400],
    ['22P02', 'VALIDATION_FAILED', 400],
    ['22003', 'VALIDATION_FAILED', 400],
    ['22021', 'VALIDATION_FAILED', 400],
    ['22P05', 'VALIDATION_FAILED', 400],
    ['42501', 'FORBIDDEN', 403],
    ['40001', 'UNAVAILABLE', 503],
    ['57P01', 'UNAVAILABLE', 503],
    ['OA403', 'FORBIDDEN', 403],
    ['OA404', 'NOT_FOUND', 404],
    ['OA409', 'CONFLICT', 409],
  ])('maps SQLSTATE %s to %s', (code, expected, status) => {
    const e = toAppError(Object.assign(new Error('relation "secret_internal_table" ...'), { code }));
    expect(e.code).toBe(expected);
    expect(e.status).toBe(status);
  });

  it('never leaks Postgres message text, but passes our own trigger messages through', () => {
    expect(toAppError(Object.assign(new Error('duplicate key value violates unique constraint "organizations_slug_key"'), { code: '23505' })).message).not.toContain('organizations_slug_key');
    expect(toAppError(Object.assign(new Error('An organization must keep at least one owner'), { code: 'OA409' })).message).toBe('An organization must keep at least one owner');
  });

  it('turns unknown errors into a generic 500 and connection failures into a retryable 503', () => {
    const internal = toAppError(new TypeError('cannot read x of undefined'));
    expect(internal).toMatchObject({ code: 'INTERNAL', message: 'Internal error', retryable: false });
    const down = toAppError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    expect(down).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    const mine = new AppError('NOT_FOUND', 'x');
    expect(toAppError(mine)).toBe(mine);
  });
});
