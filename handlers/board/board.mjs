// Message board endpoint: browsers connect (`/board?id=RANDOM[&room=NAME]`) and only listen;
// the backend pushes to them through the control channel (`wsgate ctl`, apache/php/push.php).
// A `room` query parameter puts the connection in that group, so a backend can push to one room
// (`BROADCASTT @NAME LENGTH` on the control socket, `POST /broadcast?group=NAME` over HTTP).

const roomName = /^[A-Za-z0-9_-]{1,64}$/;

/** @type {import('wsgate').Handler} */
const board = {
  onConnect(conn) {
    const room = conn.query.get('room');
    if (room === null) return undefined;
    if (!roomName.test(room)) return false; // → 403
    conn.join(room);
    return undefined;
  },
  onMessage(conn) {
    // The board is push-only: say so instead of silently dropping what the page sends.
    conn.send(JSON.stringify({ type: 'error', text: 'this board only receives messages' }));
  },
};

export default board;
