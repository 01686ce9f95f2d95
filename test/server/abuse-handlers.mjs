// Handlers for test/server/abuse.test.ts. onDisconnect calls are recorded in
// globalThis.__wsgateAbuseEvents as { id, code, reason }, a refused send as { id, refusedAfter }.
const events = () => (globalThis.__wsgateAbuseEvents ??= []);

/** "tiny N": sends N one-byte messages, 2,000 per event-loop turn, until a send is refused.
 *  Anything else is echoed. */
export const tiny = {
  onMessage(conn, data, isBinary) {
    const match = /^tiny (\d+)$/.exec(data.toString());
    if (!match) {
      conn.send(data, isBinary);
      return;
    }
    let left = Number(match[1]);
    const step = () => {
      for (let i = 0; i < 2000 && left > 0; i++, left--) {
        if (!conn.send('x')) {
          events().push({ id: conn.id, refusedAfter: Number(match[1]) - left });
          return;
        }
      }
      if (left > 0) setImmediate(step);
    };
    step();
  },
  onDisconnect(conn, code, reason) {
    events().push({ id: conn.id, code, reason });
  },
};
