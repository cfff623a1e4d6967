import { PassThrough } from 'node:stream';
import { lastValueFrom, take, tap, toArray } from 'rxjs';
import { BUDGET_SPENT, type Input, INPUT_ENDED, MAX_LINE_BYTES, OVERLONG_LINE } from '../../lib/chat/input';
import { concealTyping, socketLines } from '../../lib/edge/lines';

/** Feeds chunks to socketLines through a stream standing in for a socket, then ends it; the
 * lines before INPUT_ENDED, which must come last. */
async function linesOf(chunks: (string | Buffer)[], maxLineBytes = MAX_LINE_BYTES, budgetBytes = Infinity): Promise<Input[]> {
  const socket = new PassThrough();
  const lines = lastValueFrom(socketLines(socket, maxLineBytes, budgetBytes).pipe(toArray()));
  for (const chunk of chunks) socket.write(chunk);
  socket.end();
  const all = await lines;
  expect(all.indexOf(INPUT_ENDED)).toBe(all.length - 1);
  return all.slice(0, -1);
}

describe('socketLines', () => {
  it('ends lines at "\\n" and "\\r\\n" without leaving a "\\r"', async () => {
    expect(await linesOf(['one\r\ntwo\nthree\r\n'])).toEqual(['one', 'two', 'three']);
  });

  it('joins a line that arrives in pieces, "\\r" and "\\n" split apart too', async () => {
    expect(await linesOf(['hel', 'lo wo', 'rld\r', '\nnext\n'])).toEqual(['hello world', 'next']);
  });

  it('decodes a multi-byte character split across chunks', async () => {
    const dog = Buffer.from('héllo 🐕\n');
    expect(await linesOf([dog.subarray(0, 2), dog.subarray(2, 9), dog.subarray(9)])).toEqual(['héllo 🐕']);
  });

  it('replaces invalid UTF-8 with U+FFFD', async () => {
    expect(await linesOf([Buffer.from([0x61, 0xc3, 0x28, 0xfe, 0x62, 0x0a])])).toEqual(['a\ufffd(\ufffdb']);
  });

  it('emits an unterminated last line when the input ends', async () => {
    expect(await linesOf(['bye'])).toEqual(['bye']);
  });

  it('drops an over-long line that arrives whole and keeps reading', async () => {
    expect(await linesOf([`ok\n${'x'.repeat(11)}\nnext\n`], 10)).toEqual(['ok', OVERLONG_LINE, 'next']);
  });

  it('keeps a line exactly at the limit whose "\\r" and "\\n" arrive apart', async () => {
    expect(await linesOf(['abc\r', '\nbye\n'], 3)).toEqual(['abc', 'bye']);
  });

  it('counts the limit in bytes, not characters', async () => {
    expect(await linesOf([`${'é'.repeat(5)}\n${'é'.repeat(6)}\n`], 10)).toEqual(['ééééé', OVERLONG_LINE]);
  });

  it('drops an over-long line that arrives without its newline, once, and the rest of it', async () => {
    const tenMiB = Array.from({ length: 160 }, () => 'y'.repeat(64 * 1024));
    expect(await linesOf(['ok\nxx', ...tenMiB, 'tail\nnext\n'], 10)).toEqual(['ok', OVERLONG_LINE, 'next']);
  });

  it('reports each of two over-long lines that follow each other in pieces', async () => {
    expect(await linesOf(['a'.repeat(20), `a\n${'b'.repeat(20)}`, 'b\nok\n'], 10)).toEqual([OVERLONG_LINE, OVERLONG_LINE, 'ok']);
  });

  it('reports an over-long unterminated line once when the input ends inside it', async () => {
    expect(await linesOf(['ok\n', 'z'.repeat(20), 'z'.repeat(20)], 10)).toEqual(['ok', OVERLONG_LINE]);
  });

  it('removes telnet commands before splitting and measuring', async () => {
    const iac = Buffer.from([0xff, 0xfb, 0x01, 0x68, 0x69, 0xff, 0xfa, 0x18, 0x00, 0x0a, 0xff, 0xf0, 0x0a]);
    expect(await linesOf([iac], 2)).toEqual(['hi']);
  });

  it("answers the client's telnet negotiation on the socket it reads, and sends nothing to one that sent none", () => {
    const socket = new PassThrough();
    const answered: [unknown, number[]][] = [];
    const subscription = socketLines(socket, MAX_LINE_BYTES, Infinity, (to, command) => answered.push([to, [...command]])).subscribe();
    socket.emit('data', Buffer.from('plain\n'));
    expect(answered).toEqual([]);
    socket.emit('data', Buffer.from([0xff, 0xf4, 0xff, 0xfd, 0x06]));
    expect(answered).toEqual([[socket, [0xff, 0xfb, 0x06]]]);
    subscription.unsubscribe();
  });

  it('hides typing (telnet ECHO) only where the client has sent a telnet command, and echoes the hidden line its end', () => {
    const socket = new PassThrough();
    const answered: number[][] = [];
    const subscription = socketLines(socket, MAX_LINE_BYTES, Infinity, (_to, command) => answered.push([...command])).subscribe();
    concealTyping(socket, true);
    expect(answered).toEqual([]); // nc would print it
    socket.emit('data', Buffer.from([0xff, 0xf4, 0xff, 0xfd, 0x06]));
    concealTyping(socket, true);
    socket.emit('data', Buffer.from([0xff, 0xfd, 0x01, ...Buffer.from('secret\r\n')]));
    concealTyping(socket, false);
    expect(answered).toEqual([[0xff, 0xfb, 0x06], [0xff, 0xfb, 0x01], [0x0d, 0x0a], [0xff, 0xfc, 0x01]]);
    subscription.unsubscribe();
    concealTyping(socket, true); // no reader: nothing to ask
    expect(answered).toHaveLength(4);
  });

  it("says INPUT_ENDED at the peer's end, then still errors when the socket is lost", async () => {
    const socket = new PassThrough().on('error', () => {});
    const seen: Input[] = [];
    const done = lastValueFrom(socketLines(socket).pipe(tap((input) => seen.push(input))));
    socket.emit('data', Buffer.from('last\n'));
    socket.emit('end');
    expect(seen).toEqual(['last', INPUT_ENDED]);
    socket.destroy(Object.assign(new Error('broken pipe'), { code: 'EPIPE' }));
    await expect(done).rejects.toMatchObject({ code: 'EPIPE' });
  });

  it('errors when the socket errors, and removes its listeners when unsubscribed', async () => {
    const socket = new PassThrough().on('error', () => {}); // the owner's, as the server's on every socket
    const lines = lastValueFrom(socketLines(socket));
    socket.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    await expect(lines).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(socket.listenerCount('data') + socket.listenerCount('close') + socket.listenerCount('end')).toBe(0);
  });

  it("adds no 'error' listener: the socket's owner keeps one, and the error is read at the close", () => {
    const socket = new PassThrough();
    const subscription = socketLines(socket).subscribe();
    expect(socket.listenerCount('error')).toBe(0);
    subscription.unsubscribe();
  });

  it('gives two readers of one socket each line, and removes the listeners with the last of them', () => {
    const socket = new PassThrough();
    const first: Input[] = [];
    const second: Input[] = [];
    const one = socketLines(socket).subscribe((line) => first.push(line));
    const two = socketLines(socket).subscribe((line) => second.push(line));
    socket.emit('data', Buffer.from('a\nb'));
    one.unsubscribe();
    socket.emit('data', Buffer.from('\nc\n'));
    expect(first).toEqual(['a']);
    expect(second).toEqual(['a', 'b', 'c']);
    expect(socket.listenerCount('data')).toBe(1);
    two.unsubscribe();
    expect(socket.listenerCount('data') + socket.listenerCount('close') + socket.listenerCount('end')).toBe(0);
  });

  describe('with the split2 streams that readers share', () => {
    /** A socket stand-in whose chunks arrive the moment they are emitted, so two can interleave. */
    function reader(maxLineBytes = MAX_LINE_BYTES) {
      const socket = new PassThrough();
      const lines: Input[] = [];
      let completed = false;
      const subscription = socketLines(socket, maxLineBytes).subscribe({ next: (line) => lines.push(line), complete: () => (completed = true) });
      return { socket, lines, subscription, isCompleted: () => completed, send: (chunk: string | Buffer) => socket.emit('data', Buffer.from(chunk)) };
    }

    it('keeps the unfinished lines of two sockets apart', () => {
      const ann = reader();
      const bob = reader();
      ann.send('hel');
      bob.send('wor');
      ann.send('lo\nagain');
      bob.send('ld\n');
      ann.send('\n');
      expect(ann.lines).toEqual(['hello', 'again']);
      expect(bob.lines).toEqual(['world']);
      ann.subscription.unsubscribe();
      bob.subscription.unsubscribe();
    });

    it('keeps a skipped line and a half character with their socket, and hands on clean streams', () => {
      const ann = reader(10);
      const carol = reader(10);
      ann.send('x'.repeat(20)); // ann's stream now skips to the next line feed
      carol.send(Buffer.from([0xc3])); // carol's holds the first byte of "é"
      const bob = reader(10);
      bob.send('short\n');
      ann.send('x\nok\n');
      carol.send(Buffer.from([0xa9, 0x0a]));
      const dave = reader(10); // takes a stream that ann, bob or carol gave back
      dave.send('fine\n');
      expect(ann.lines).toEqual([OVERLONG_LINE, 'ok']);
      expect(carol.lines).toEqual(['é']);
      expect(bob.lines).toEqual(['short']);
      expect(dave.lines).toEqual(['fine']);
      for (const { subscription } of [ann, bob, carol, dave]) subscription.unsubscribe();
    });

    it('gives no stream back that a line ended mid-chunk, so the next socket still reads', async () => {
      const first = new PassThrough();
      const firstLine = lastValueFrom(socketLines(first).pipe(take(1)));
      first.emit('data', Buffer.from('one\ntwo\n')); // take(1) unsubscribes while split2 is inside write()
      expect(await firstLine).toBe('one');
      const next = reader();
      next.send('three\n');
      expect(next.lines).toEqual(['three']);
      next.subscription.unsubscribe();
    });

    it('keeps the order of a chunk that arrives while an earlier one is being delivered', () => {
      const socket = new PassThrough();
      const lines: Input[] = [];
      const subscription = socketLines(socket).subscribe((line) => {
        lines.push(line);
        if (line === 'a') socket.emit('data', Buffer.from('c\n'));
      });
      socket.emit('data', Buffer.from('a\nb\n'));
      socket.emit('data', Buffer.from('d\n'));
      expect(lines).toEqual(['a', 'b', 'c', 'd']);
      subscription.unsubscribe();
    });

    it('hands on no stream that input ending mid-delivery has ended', async () => {
      const socket = new PassThrough();
      const lines = lastValueFrom(socketLines(socket).pipe(tap((line) => line === 'a' && socket.emit('end')), toArray()));
      socket.emit('data', Buffer.from('a\nb\n'));
      socket.emit('close');
      expect(await lines).toEqual(['a', 'b', INPUT_ENDED]);
      const next = reader();
      next.send('still reading\n');
      expect(next.lines).toEqual(['still reading']);
      next.subscription.unsubscribe();
    });

    it('emits the unfinished line of a socket whose input ends while others read', async () => {
      const ann = reader();
      const bob = reader();
      ann.send('bye');
      bob.send('hi\n');
      ann.socket.emit('end');
      await new Promise<void>((resolve) => ann.socket.once('close', resolve).destroy());
      expect(ann.lines).toEqual(['bye', INPUT_ENDED]);
      expect(ann.isCompleted()).toBe(true);
      expect(bob.lines).toEqual(['hi']);
      bob.subscription.unsubscribe();
    });
  });

  describe('byte budget', () => {
    it('says once that the budget is spent, before the lines of the chunk that spends it', async () => {
      expect(await linesOf(['abc\n', 'de\nfg\n', 'hi\n', 'jk\n'], 10, 8)).toEqual(['abc', BUDGET_SPENT, 'de', 'fg', 'hi', 'jk']);
    });

    it('is not spent by exactly the budget', async () => {
      expect(await linesOf(['abc\n', 'defg\n'], 10, 9)).toEqual(['abc', 'defg']);
    });

    it('counts bytes as they arrive: a line with no newline spends it, and so do telnet commands', async () => {
      const socket = new PassThrough();
      const seen: Input[] = [];
      const subscription = socketLines(socket, 10, 100).subscribe((input) => seen.push(input));
      socket.write('z'.repeat(60));
      socket.write(Buffer.from([0xff, 0xfb, 0x18]));
      expect(seen).toEqual([OVERLONG_LINE]);
      socket.write('z'.repeat(38));
      expect(seen).toEqual([OVERLONG_LINE, BUDGET_SPENT]);
      subscription.unsubscribe();
    });
  });
});
