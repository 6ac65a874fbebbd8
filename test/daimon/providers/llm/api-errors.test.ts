import { APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { classifyApiError, redact } from '../../../../daimon/providers/llm/api-errors.js';

const SDK = { APIError, APIUserAbortError, APIConnectionError };
const live = new AbortController().signal;
const SECRET = 'sk-secret-abcdef';

const statusError = (status: number, message = 'nope') =>
  APIError.generate(status, { type: 'error', error: { type: 'some_error', message } }, undefined, new Headers());

describe('classifyApiError', () => {
  it.each([
    [401, 'unavailable'], [403, 'unavailable'], [408, 'unavailable'], [409, 'unavailable'], [429, 'unavailable'],
    [500, 'unavailable'], [529, 'unavailable'], [400, 'request'], [404, 'request'], [413, 'request'], [422, 'request'],
  ])('HTTP %i → %s', (status, kind) => {
    expect(classifyApiError(statusError(status), live, SDK, SECRET)).toEqual({ kind, status, message: `${status} some_error: nope` });
  });

  it('treats an aborted signal or a user abort as aborted, whatever the error', () => {
    const controller = new AbortController();
    controller.abort();
    expect(classifyApiError(statusError(500), controller.signal, SDK, SECRET)).toEqual({ kind: 'aborted' });
    expect(classifyApiError(new APIUserAbortError(), live, SDK, SECRET)).toEqual({ kind: 'aborted' });
  });

  it('names the root cause of a connection error', () => {
    const cause = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    expect(classifyApiError(new APIConnectionError({ cause }), live, SDK, SECRET)).toEqual({
      kind: 'unavailable',
      message: 'Connection error. (connect ECONNREFUSED 127.0.0.1:9)',
    });
  });

  it('calls anything else a request error, and cuts the key out of every message', () => {
    expect(classifyApiError(new Error(`bad ${SECRET}`), live, SDK, SECRET)).toEqual({ kind: 'request', message: 'bad [redacted]' });
    expect(classifyApiError(statusError(401, `key ${SECRET} invalid`), live, SDK, SECRET)).toMatchObject({ message: '401 some_error: key [redacted] invalid' });
  });
});

describe('redact', () => {
  it('replaces every occurrence and caps the length', () => {
    expect(redact(`${SECRET}/${SECRET}`, SECRET)).toBe('[redacted]/[redacted]');
    expect(redact('x'.repeat(5000), SECRET)).toHaveLength(1001);
  });
});
