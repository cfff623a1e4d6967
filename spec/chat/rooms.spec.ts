import { MAX_ROOM_NAME_LENGTH, roomName } from '../../lib/chat/rooms';

const PROBLEM = { problem: 'room names are 1 to 32 of a-z 0-9 - _, with or without a leading #' };

describe('MAX_ROOM_NAME_LENGTH', () => {
  it('is 32 characters, # not counted', () => {
    expect(MAX_ROOM_NAME_LENGTH).toBe(32);
    expect(roomName(`#${'a'.repeat(32)}`)).toEqual({ room: `#${'a'.repeat(32)}` });
  });
});

describe('roomName', () => {
  it.each([
    ['games', '#games'],
    ['#games', '#games'],
    ['#Games', '#games'],
    ['GAMES', '#games'],
    ['a', '#a'],
    ['main', '#main'],
    ['dev-ops_2', '#dev-ops_2'],
    ['a'.repeat(32), `#${'a'.repeat(32)}`],
    ['\u212a', '#k'], // the Kelvin sign lowercases to k: the room has its one form still
  ])('makes %j the room %j', (typed, room) => {
    expect(roomName(typed)).toEqual({ room });
  });

  it.each([
    ['', 'nothing'],
    ['#', 'a # alone'],
    ['##games', 'two #'],
    ['a'.repeat(33), '33 characters'],
    [`#${'a'.repeat(33)}`, '33 characters after #'],
    ['Bad!', 'punctuation'],
    ['two words', 'a space'],
    ['caf\u00e9', 'a letter beyond a-z'],
    ['a\x1bb', 'a control character'],
    ['games\n', 'a line break'],
  ])('refuses %j (%s), saying what a room name is', (typed) => {
    expect(roomName(typed)).toEqual(PROBLEM);
  });
});
