// Echo: every message goes back to its sender, text as text and binary as binary
// (what mod_websocket's echo example plugin does).

/** @type {import('wsgate').Handler} */
const echo = {
  onMessage(conn, data, isBinary) {
    conn.send(data, isBinary);
  },
  // Nothing is kept but what send() holds: the gateway may read the next messages into the same memory.
  releasedMessages() {
    return true;
  },
};

export default echo;
