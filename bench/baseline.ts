import { createServer, type Server, type Socket } from 'node:net';

/**
 * The baseline: the plainest correct `net` server for chatd's protocol, to measure chatd against.
 * Per socket a string buffer split on "\n"; a Map of users; one socket.write per receiver per
 * line. No flood control, no send-queue limit, Node's socket defaults (Nagle on).
 */
export function createBaselineServer(): Server {
  const users = new Map<string, Socket>();
  const broadcast = (line: string) => {
    for (const socket of users.values()) socket.write(line);
  };
  return createServer((socket) => {
    let buffer = '';
    let name: string | undefined;
    const onLine = (raw: string) => {
      const line = raw.replace(/\r$/, ''); // telnet ends lines with "\r\n"
      if (name !== undefined) {
        if (line.trim() !== '') broadcast(`[${name}] ${line}\n`);
        return;
      }
      const wanted = line.trim();
      if (wanted === '' || users.has(wanted)) {
        const reason = wanted === '' ? 'username must not be empty' : `username ${wanted} is taken`;
        socket.write(`*** ${reason}\nPlease enter your username: `);
        return;
      }
      name = wanted;
      users.set(name, socket);
      socket.write(`Welcome, ${name}\n`);
      broadcast(`*** ${name} just joined the chatroom\n`);
    };
    socket.setEncoding('utf8');
    socket.write("Welcome to Jen's chat server!\nPlease enter your username: ");
    socket.on('data', (chunk: string) => {
      const lines = (buffer + chunk).split('\n');
      buffer = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    socket.on('error', () => {}); // a reset peer must not crash the server; 'close' follows
    socket.on('close', () => {
      if (name === undefined) return;
      users.delete(name);
      broadcast(`*** ${name} has disconnected\n`);
    });
  });
}
