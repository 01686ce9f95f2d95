// dumb-increment, the classic libwebsockets / mod_websocket demo: requires the subprotocol
// `dumb-increment-protocol` (else 403), sends "0", "1", "2", … every 50 ms, and starts again
// from 0 when the client sends exactly "reset\n".

const PROTOCOL = 'dumb-increment-protocol';
const PERIOD_MS = 50;

/**
 * @typedef {{ next: number, timer: NodeJS.Timeout | undefined }} Counter
 * @type {import('wsgate').Handler<Counter>}
 */
const dumbIncrement = {
  onConnect(conn) {
    if (!conn.protocols.includes(PROTOCOL)) return false;
    conn.selectProtocol(PROTOCOL);
    /** @type {Counter} */
    const counter = { next: 0, timer: undefined };
    counter.timer = setInterval(() => {
      // send() is false until the 101 is out (and after close): count only what was sent.
      if (conn.send(String(counter.next))) counter.next++;
    }, PERIOD_MS);
    return counter;
  },

  onMessage(conn, data) {
    if (data.toString('utf8') === 'reset\n') conn.state.next = 0;
  },

  // No message is kept: the gateway may read the next ones into the same memory.
  releasedMessages() {
    return true;
  },

  onDisconnect(conn) {
    clearInterval(conn.state?.timer);
  },
};

export default dumbIncrement;
