import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EDGE_TOKEN_HEADER, edgeTokenBytes, fromEdge } from './trust.ts';

const secret = 'a-shared-edge-token-0123';
const token = edgeTokenBytes({ edgeToken: secret });

test('fromEdge - a message with the deployment\'s token is trusted', () => {
  assert.equal(fromEdge({ [EDGE_TOKEN_HEADER]: Buffer.from(secret) }, token), true);
  assert.equal(fromEdge({ [EDGE_TOKEN_HEADER]: secret, other: Buffer.from('x') }, token), true, 'a string header (a hand-built message) counts the same');
});

test('fromEdge - a wrong, absent, shorter, longer or repeated token is not trusted', () => {
  const wrong = secret.replace('0', '1');
  assert.equal(wrong.length, secret.length);
  assert.equal(fromEdge({ [EDGE_TOKEN_HEADER]: Buffer.from(wrong) }, token), false);
  assert.equal(fromEdge({}, token), false);
  assert.equal(fromEdge(undefined, token), false);
  assert.equal(fromEdge({ [EDGE_TOKEN_HEADER]: undefined }, token), false);
  assert.equal(fromEdge({ [EDGE_TOKEN_HEADER]: Buffer.from(secret.slice(0, -1)) }, token), false);
  assert.equal(fromEdge({ [EDGE_TOKEN_HEADER]: Buffer.from(`${secret}x`) }, token), false);
  assert.equal(fromEdge({ [EDGE_TOKEN_HEADER]: Buffer.alloc(0) }, token), false);
  assert.equal(fromEdge({ [EDGE_TOKEN_HEADER]: [Buffer.from(secret)] }, token), false);
  assert.equal(fromEdge({ [EDGE_TOKEN_HEADER]: [Buffer.from(secret), Buffer.from(secret)] }, token), false);
  assert.equal(fromEdge({ 'Keyflow-Edge-Token': Buffer.from(secret) }, token), false, 'header names are exact');
});

test('fromEdge - without a configured token nothing is trusted, not even an empty header', () => {
  assert.equal(edgeTokenBytes({}), undefined);
  assert.equal(edgeTokenBytes({ edgeToken: undefined }), undefined);
  assert.equal(fromEdge({ [EDGE_TOKEN_HEADER]: Buffer.from(secret) }, undefined), false);
  assert.equal(fromEdge({ [EDGE_TOKEN_HEADER]: Buffer.alloc(0) }, undefined), false);
});
