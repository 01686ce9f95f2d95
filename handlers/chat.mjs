// Chat: every message is broadcast to everyone on this Location — or, with `?room=NAME`, to
// everyone in that room (a registry group). Shows gateway.broadcast and groups.

/**
 * A factory: called once per Location with the gateway (the registry) and the endpoint.
 * @type {import('wsgate').HandlerFactory}
 */
export default function chat(gateway, endpoint) {
  /** @param {import('wsgate').Connection} conn */
  const roomOf = (conn) => conn.query.get('room');

  return {
    onConnect(conn) {
      const room = roomOf(conn);
      if (room) conn.join(`room:${room}`);
    },

    onMessage(conn, data, isBinary) {
      const room = roomOf(conn);
      void gateway.broadcast(data, {
        location: endpoint.location,
        ...(room ? { group: `room:${room}` } : {}),
        isBinary,
      });
    },
  };
}
