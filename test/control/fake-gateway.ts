// The control channel's unit tests run against a real in-process registry whose connections
// record what they were sent (no sockets): see test/registry/connections.ts.
import { InProcessRegistry } from '../../src/registry/in-process.js';
import { RecordingConnection } from '../registry/connections.js';

export type { Sent } from '../registry/connections.js';

export class FakeGateway extends InProcessRegistry<RecordingConnection> {
  readonly conns = new Map<string, RecordingConnection>();

  /** An open connection; ids starting with `v6` come from ::1. Port 40000 + the id's length. */
  add(id: string, location = '/echo', groups: string[] = []): RecordingConnection {
    const conn = new RecordingConnection(id, { location, remoteAddress: id.startsWith('v6') ? '::1' : '127.0.0.1', remotePort: 40000 + id.length });
    for (const g of groups) conn.groups.add(g);
    this.conns.set(id, conn.addTo(this.local));
    return conn;
  }
}
