import { describe, expect, test } from 'vitest';
import { isPrintable, keyNames } from '../../../tui/keys/key-name.js';

describe('keyNames', () => {
  test('splits a chunk of printable keys into one name each', () => {
    expect(keyNames('jjj', {})).toEqual(['j', 'j', 'j']);
    expect(keyNames('Gg?', { shift: true })).toEqual(['G', 'g', '?']);
  });

  test('names control characters inside a chunk', () => {
    expect(keyNames('k\r', {})).toEqual(['k', 'enter']);
    expect(keyNames('a\tb\u007F\u0012', {})).toEqual(['a', 'tab', 'b', 'backspace', 'ctrl+r']);
    expect(keyNames('x\u0000\u009By', {})).toEqual(['x', 'y']);
  });

  test('uses Ink’s key flags for special keys', () => {
    expect(keyNames('', { return: true })).toEqual(['enter']);
    expect(keyNames('', { escape: true, meta: true })).toEqual(['esc']);
    expect(keyNames('', { upArrow: true })).toEqual(['up']);
    expect(keyNames('', { downArrow: true })).toEqual(['down']);
    expect(keyNames('', { pageDown: true })).toEqual(['pagedown']);
    expect(keyNames('', { pageUp: true })).toEqual(['pageup']);
    expect(keyNames('', { home: true })).toEqual(['home']);
    expect(keyNames('', { end: true })).toEqual(['end']);
    expect(keyNames('', { tab: true })).toEqual(['tab']);
    expect(keyNames('', { tab: true, shift: true })).toEqual(['shift+tab']);
    expect(keyNames('', { backspace: true })).toEqual(['backspace']);
  });

  test('ctrl+letter', () => {
    expect(keyNames('c', { ctrl: true })).toEqual(['ctrl+c']);
    expect(keyNames('s', { ctrl: true })).toEqual(['ctrl+s']);
  });

  test('wide and astral characters stay whole', () => {
    expect(keyNames('日😀', {})).toEqual(['日', '😀']);
    expect(isPrintable('😀')).toBe(true);
    expect(isPrintable('enter')).toBe(false);
  });
});
