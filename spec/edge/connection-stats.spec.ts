import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DISCONNECT_REASONS, disconnectReason, type Figures, REFUSAL_REASONS, statsText } from '../../lib/edge/connection-stats';
import { SendQueueFullError } from '../../lib/edge/fanout';

describe('disconnectReason', () => {
  it("is listed in README's metrics as the metrics label it, every reason in order", () => {
    // README wraps its lines anywhere, a label list after its "reason=" too.
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ').replace(/reason= /g, 'reason=');
    const labels = (reasons: readonly string[]) => `{reason=${reasons.map((reason) => `"${reason}"`).join('|')}}`;
    expect(readme).toContain(`chatd_disconnects_total${labels(DISCONNECT_REASONS)}`);
    expect(readme).toContain(`chatd_connections_refused_total${labels(REFUSAL_REASONS)}`);
  });

  it('puts the send queue first, then the chat closing, then the shutdown, then the peer', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(disconnectReason(new SendQueueFullError(1), undefined, true)).toBe('send_queue');
    expect(disconnectReason(null, 'quit', true)).toBe('quit');
    expect(disconnectReason(null, 'login_timeout', false)).toBe('login_timeout');
    expect(disconnectReason(reset, undefined, true)).toBe('shutdown');
    expect(disconnectReason(reset, undefined, false)).toBe('error');
    expect(disconnectReason(null, undefined, false)).toBe('eof');
  });
});

describe('statsText', () => {
  it('shows the figures in a few lines', () => {
    const figures: Figures = {
      uptimeSeconds: 3723, handshaking: 3, beforeLogin: 1, loggedIn: 2, accepted: 9, refused: { full: 1, per_address: 4, connect_rate: 5 }, handshakesFailed: 6,
      disconnects: { eof: 1, error: 2, login_timeout: 1, login_limit: 0, wrong_password: 0, send_queue: 1, quit: 1, kick: 2, banned: 1, replaced: 0, shutdown: 0 },
      linesReceived: 40, linesDelivered: 80, linesOverlong: 1, linesFlooded: 3, bytesIn: 500, bytesOut: 900, largestSendQueueBytes: 64, rooms: 2,
      cluster: undefined, passwords: { right: 4, wrong: 7, unchecked: 2, failed: 1, waits: 5, waitSeconds: 12.4 },
    };
    expect(statsText(figures)).toBe([
      'up for 1h 2m 3s',
      'connections: 2 logged in, 1 before login, 3 in TLS handshake; 9 accepted, 1 refused (full), 4 refused (per address), 5 refused (connect rate)',
      'TLS handshakes failed: 6',
      'disconnects: 1 eof, 2 error, 1 login timeout, 0 login limit, 0 wrong password, 1 send queue, 1 quit, 2 kick, 1 banned, 0 replaced, 0 shutdown',
      'lines: 40 received, 80 delivered; dropped 1 overlong, 3 flooding',
      'bytes: 500 in, 900 out; largest send queue 64 bytes',
      'rooms: 2',
      'passwords: 4 right, 7 wrong, 2 not checked, 1 failed; 5 waits, 12 s in all',
      '',
    ].join('\n'));
    expect(statsText({ ...figures, cluster: { busUp: true, nodes: 2 } })).toMatch(/\nrooms: 2\npasswords: [^\n]*\ncluster: bus up, 2 nodes alive\n$/);
  });
});
