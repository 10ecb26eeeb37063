// Signed notes, checkpoints and cosignatures, byte-exact against Go's sumdb/note example
// and real checkpoints cosigned by public witnesses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuditError,
  cosignNote,
  cosignatureTime,
  formatCheckpoint,
  formatNote,
  formatVerifierKey,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  signNote,
  verifierKey,
  verifyNote,
  SIG_COSIGNATURE_V1,
} from '../../src/audit/index.js';
import { generateNodeKeys } from '../../src/crypto/index.js';

// golang.org/x/mod/sumdb/note: the package documentation's example.
const GO_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

test('signing the sumdb/note example reproduces Go\'s note byte for byte', () => {
  const seed = new Uint8Array(Buffer.from(GO_SIGNER.split('+').slice(4).join('+'), 'base64')).subarray(1);
  const sig = signNote(GO_TEXT, 'PeterNeumann', seed);
  assert.equal(formatNote({ text: GO_TEXT, signatures: [sig] }), GO_NOTE);
  const key = parseVerifierKey(GO_VKEY);
  assert.equal(formatVerifierKey(key), GO_VKEY);
  assert.deepEqual(verifyNote(parseNote(GO_NOTE), [key]), [key]);
  assert.throws(() => verifyNote(parseNote(GO_NOTE.replace('cryptography', 'cryptographY')), [key]), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_BAD_SIGNATURE');
});

test('verifier keys with a wrong id, name or type are refused', () => {
  assert.throws(() => parseVerifierKey(GO_VKEY.replace('c74f20a3', 'c74f20a4')), /does not match/);
  assert.throws(() => parseVerifierKey(`Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW`), AuditError);
  assert.throws(() => parseVerifierKey('PeterNeumann+c74f20a3+AhpcOw=='), /unsupported/);
});

// A checkpoint of a public CT log with the cosignatures of public witnesses (tlog-cosignature v1).
const CT_CHECKPOINT = [
  'arche2025h1.staging.ct.transparency.dev',
  '1432088532',
  'U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=',
  '',
  '\u2014 arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=',
  '\u2014 arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=',
  '\u2014 transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==',
  '\u2014 witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==',
  '\u2014 remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==',
  '\u2014 witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==',
  '',
].join('\n');
const WITNESSES = [
  'transparency.dev/DEV:witness-little-garden+d8042a87+BCtusOxINQNUTN5Oj8HObRkh2yHf/MwYaGX4CPdiVEPM',
  'witness1.smartit.nu/witness1+a48c820f+BPSFWg9G6KPiO7QPryYO5Xq4oYJJ+kAvLKLSimDhoxMO',
  'remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2',
  'witness.stagemole.eu+67f7aea0+BEqSG3yu9YrmcM3BHvQYTxwFj3uSWakQepafafpUqklv',
].map(parseVerifierKey);

test('cosignatures of four public witnesses on a real checkpoint verify; a changed size does not', () => {
  const note = parseNote(CT_CHECKPOINT);
  const cp = parseCheckpoint(note.text);
  assert.equal(cp.origin, 'arche2025h1.staging.ct.transparency.dev');
  assert.equal(cp.size, 1432088532);
  assert.equal(formatCheckpoint(cp), note.text);
  assert.equal(formatNote(note), CT_CHECKPOINT);
  assert.equal(verifyNote(note, WITNESSES).length, 4);
  const changed = { ...note, text: formatCheckpoint({ ...cp, size: 42 }) };
  assert.throws(() => verifyNote(changed, WITNESSES), AuditError);
});

test('our own cosignature round-trips with its time, and only its key accepts it', () => {
  const text = formatCheckpoint({ origin: 'fcp.mesh/laptop/z:owner', size: 3, root: new Uint8Array(32).fill(7), extensions: [] });
  const keys = generateNodeKeys();
  const sig = cosignNote(text, 'fcp.mesh/witness/server', keys.signingSecretKey, 1_767_225_600);
  assert.equal(cosignatureTime(sig.body), 1_767_225_600);
  const note = parseNote(formatNote({ text, signatures: [sig] }));
  const key = verifierKey('fcp.mesh/witness/server', SIG_COSIGNATURE_V1, keys.signingPublicKey);
  assert.deepEqual(verifyNote(note, [key]), [key]);
  const other = verifierKey('fcp.mesh/witness/server', SIG_COSIGNATURE_V1, generateNodeKeys().signingPublicKey);
  assert.throws(() => verifyNote(note, [other]), AuditError);
});

test('malformed notes and checkpoints get typed errors', () => {
  assert.throws(() => parseNote('no blank line\n'), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_BAD_NOTE');
  assert.throws(() => parseNote(`${GO_TEXT}\n- PeterNeumann AAAA\n`), /not a signature line/);
  assert.throws(() => parseCheckpoint('origin\n012\nAAAA\n'), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_BAD_CHECKPOINT');
  assert.throws(() => parseCheckpoint('origin\n12\nAAAA\n'), /32-byte/);
  assert.throws(() => parseCheckpoint('origin\n12\n'), /origin, a size and a root/);
});
