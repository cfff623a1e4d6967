// chatd's page: the same lines an nc user reads, one WebSocket message each, shown as text.
'use strict';
(() => {
  const CONCEAL = '\u0000conceal'; // control messages, sent only to a client that asked for the 'chatd' protocol
  const REVEAL = '\u0000reveal';
  const PASSWORD_PROMPT = 'Password: ';
  const USERNAME_PROMPT = 'Please enter your username: ';
  const MAX_LINES = 2000; // older lines leave the page, so a long stay does not grow it without end
  const MAX_HISTORY = 100;
  const MAX_NAMES = 2000; // names kept for Tab: the oldest seen go first
  const NAME_KEY = 'chatd.name';
  const SECRET_COMMAND = /^\/(?:register|password|unregister)(?:\s|$)/i; // their words are passwords: not kept for up and down
  const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

  const log = document.getElementById('log');
  const status = document.getElementById('status');
  const form = document.getElementById('send');
  const input = document.getElementById('input');
  const prompt = document.getElementById('prompt');

  const names = new Set(); // every name the page has seen, for Tab
  const history = [];
  let recalled = history.length; // where up and down are in the history
  let draft = '';
  let nick = ''; // our own name, once the chat said we joined
  let offered = ''; // the name we answered the username prompt with
  let rejoining = false; // the connection was lost after a login: the next username prompt offers the name again
  let unsent = ''; // what was typed while the connection was down: a chat line, back in the input after the login
  let askedFor = ''; // the prompt our next line answers
  let socket;
  let retries = 0;
  let completing; // Tab's state: the word being completed and the names it cycles through

  const remember = (key, value) => { try { localStorage.setItem(key, value); } catch { /* storage off */ } };
  const recall = (key) => { try { return localStorage.getItem(key) ?? ''; } catch { return ''; } };

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function mask(hidden) {
    input.type = hidden ? 'password' : 'text';
    input.autocomplete = hidden ? 'current-password' : 'off';
  }

  /** Text with its http and https links made clickable; everything else stays characters. */
  function render(into, text) {
    let at = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      into.append(text.slice(at, match.index));
      const link = document.createElement('a');
      link.href = match[0];
      link.textContent = match[0];
      link.rel = 'noopener noreferrer';
      link.target = '_blank';
      into.append(link);
      at = match.index + match[0].length;
    }
    into.append(text.slice(at));
  }

  function kindOf(text) {
    if (text.startsWith('[PM ')) return 'private';
    if (text.startsWith('***')) return 'notice';
    if (nick !== '' && (text.startsWith(`[${nick}] `) || text.startsWith(`* ${nick} `))) return 'own';
    return 'chat';
  }

  function see(name) {
    names.delete(name); // seen again: the newest
    names.add(name);
    if (names.size > MAX_NAMES) names.delete(names.values().next().value);
  }

  /** Learns the names a line shows: joins, renames, chat lines, /who replies. */
  function learn(text) {
    let found = /^\*\*\* (\S+) just joined /.exec(text) ?? /^\[(?:PM from )?([^\]\s]+)\] /.exec(text) ?? /^\* (\S+) /.exec(text);
    if (found) see(found[1]);
    found = /^\*\*\* (\S+) is now known as (\S+)$/.exec(text);
    if (found) {
      see(found[2]);
      if (found[1] === nick) nick = found[2];
    }
    found = /^\*\*\* \d+ in \S+: (.*)$/.exec(text);
    if (found) for (const entry of found[1].split(', ')) see(entry.split(' ')[0]);
    // The login's own line, whether it joined a room or took over the user's other connection.
    found = offered !== '' && nick === '' ? /^Welcome, (\S+)$/.exec(text) : null;
    if (found) {
      nick = found[1];
      remember(NAME_KEY, nick);
      if (input.value === '') input.value = unsent;
      unsent = '';
    }
  }

  function show(text, kind) {
    const stuck = log.scrollHeight - log.scrollTop - log.clientHeight < 40; // unless the reader scrolled up
    const item = document.createElement('li');
    item.className = kind;
    render(item, text);
    log.append(item);
    while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
    if (stuck) item.scrollIntoView({ block: 'end' });
  }

  function received(message) {
    if (message === CONCEAL || message === REVEAL) return mask(message === CONCEAL);
    if (message.endsWith('\n')) {
      for (const line of message.slice(0, -1).split('\n')) {
        if (line === '') continue;
        learn(line);
        show(line, kindOf(line));
      }
      return;
    }
    // A prompt: what the next line answers.
    askedFor = message.replace(/^\n/, '');
    prompt.textContent = askedFor.trim() || 'Message';
    show(askedFor, 'prompt');
    if (askedFor === PASSWORD_PROMPT) mask(true);
    if (askedFor === USERNAME_PROMPT && (input.value === '' || rejoining)) {
      if (rejoining) unsent = input.value;
      rejoining = false;
      input.value = recall(NAME_KEY);
      input.select();
    }
  }

  function connect() {
    setStatus('connecting', retries === 0 ? 'connecting…' : 'reconnecting…');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(`${scheme}//${location.host}/chat`, 'chatd');
    socket.addEventListener('open', () => {
      retries = 0;
      setStatus('open', 'connected');
    });
    socket.addEventListener('message', (event) => {
      if (typeof event.data === 'string') received(event.data);
    });
    socket.addEventListener('close', () => {
      if (nick !== '') rejoining = true;
      nick = '';
      offered = '';
      askedFor = '';
      mask(false);
      prompt.textContent = 'Message';
      // Backoff: 1, 2, 4 ... 30 s, each a little shuffled so that a restart is not met by everyone at once.
      const delay = Math.min(30, 2 ** retries) * (0.75 + Math.random() / 2);
      retries += 1;
      setStatus('lost', `connection lost; retrying in ${Math.round(delay)} s`);
      show(`connection lost; retrying in ${Math.round(delay)} s`, 'local');
      setTimeout(connect, delay * 1000);
    });
  }

  const isOpen = () => socket !== undefined && socket.readyState === WebSocket.OPEN;

  /** Sends `lines` as one message, which the server splits; the first answers the prompt. */
  function submit(lines) {
    const secret = input.type === 'password';
    socket.send(lines.join('\n'));
    if (askedFor === USERNAME_PROMPT) offered = lines[0].trim();
    askedFor = '';
    prompt.textContent = 'Message';
    if (secret) mask(false); // the password is sent: what comes next shows again
    else for (const line of lines) {
      if (line === '' || SECRET_COMMAND.test(line) || history[history.length - 1] === line) continue;
      history.push(line);
      if (history.length > MAX_HISTORY) history.shift();
    }
    recalled = history.length;
    draft = '';
  }

  function send(event) {
    event.preventDefault();
    if (!isOpen()) return;
    submit([input.value]);
    input.value = '';
  }

  /** A paste with line breaks, which an input would drop, running the lines together: the lines
   * it completes are sent, and its unfinished last line stays to be edited. */
  function paste(event) {
    const text = event.clipboardData?.getData('text/plain') ?? '';
    if (input.type === 'password' || !/[\r\n]/.test(text) || !isOpen()) return;
    event.preventDefault();
    const start = input.selectionStart ?? input.value.length;
    const after = input.value.slice(input.selectionEnd ?? start);
    const lines = (input.value.slice(0, start) + text).split(/\r\n|\r|\n/);
    const last = lines.pop();
    submit(lines);
    input.value = last + after;
    input.setSelectionRange(last.length, last.length);
  }

  function step(by) {
    if (input.type === 'password') return;
    if (recalled === history.length) draft = input.value;
    recalled = Math.max(0, Math.min(history.length, recalled + by));
    input.value = recalled === history.length ? draft : history[recalled];
    input.setSelectionRange(input.value.length, input.value.length);
  }

  function complete() {
    const caret = input.selectionStart ?? input.value.length;
    const before = input.value.slice(0, caret);
    const start = before.search(/\S*$/);
    if (completing === undefined || completing.end !== caret || completing.value !== input.value) {
      const word = before.slice(start).toLowerCase();
      const matches = [...names].filter((name) => name.toLowerCase().startsWith(word) && name !== nick).sort();
      if (word === '' || matches.length === 0) return;
      completing = { matches, next: 0 };
    }
    const name = completing.matches[completing.next % completing.matches.length];
    completing.next += 1;
    const suffix = start === 0 ? ': ' : ' ';
    const value = input.value.slice(0, start) + name + suffix + input.value.slice(caret);
    input.value = value;
    const end = start + name.length + suffix.length;
    input.setSelectionRange(end, end);
    Object.assign(completing, { end, value });
  }

  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowUp') step(-1);
    else if (event.key === 'ArrowDown') step(1);
    else if (event.key === 'Tab' && !event.shiftKey && input.value !== '' && input.type !== 'password') complete();
    else return;
    event.preventDefault();
  });
  input.addEventListener('paste', paste);
  form.addEventListener('submit', send);
  connect();
  input.focus();
})();
