// handlers/echo.mjs without releasedMessages: the hot-path bench's `JS keeps` row, what an echo
// costs a handler that does not tell the gateway it keeps no message (each read in new memory).

/** @type {import('wsgate').Handler} */
export default {
  onMessage(conn, data, isBinary) {
    conn.send(data, isBinary);
  },
};
