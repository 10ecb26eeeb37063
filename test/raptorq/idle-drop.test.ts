// idleDropper: drop runs once the idle period has passed since the last touch, not before.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { idleDropper } from '../../src/raptorq/idle-drop.js';

test('drop waits for the idle period after the last touch, and runs once', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    let drops = 0;
    const touch = idleDropper(1000, () => drops++);
    touch();
    mock.timers.tick(600);
    touch(); // use again: the period starts over
    mock.timers.tick(600);
    assert.equal(drops, 0, 'touched 600 ms ago: kept');
    mock.timers.tick(400);
    assert.equal(drops, 1, 'idle 1000 ms: dropped');
    mock.timers.tick(5000);
    assert.equal(drops, 1, 'no timer left running');
    touch();
    mock.timers.tick(1000);
    assert.equal(drops, 2, 'a later use arms it again');
  } finally {
    mock.timers.reset();
  }
});
