// Attackers for fairness.test.ts, in a process of their own: CONNECTIONS clients of URL each send
// "burst:N" (N = BURST, default 5000) and check that b0..bN-1 come back in order, again and again
// for MS milliseconds. Usage: node burst-attackers.mjs URL CONNECTIONS MS [BURST]
// Prints {"bursts":[…]} (whole bursts per client) or {"error":"…"}. Apart from the gateway and its
// canary, so that parsing a gateway's fast output does not stall the event loop the canary measures.
import WebSocket from 'ws';

const [url, connections, ms, burst] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 5000)];
const deadline = Date.now() + ms;

function attack() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let expected = 0;
    let bursts = 0;
    ws.once('error', reject);
    ws.once('open', () => ws.send(`burst:${burst}`));
    ws.on('message', (data) => {
      if (data.toString() !== `b${expected}`) reject(new Error(`got ${data.toString()}, expected b${expected}`));
      if (++expected < burst) return;
      expected = 0;
      bursts++;
      if (Date.now() < deadline) ws.send(`burst:${burst}`);
      else {
        ws.close();
        resolve(bursts);
      }
    });
  });
}

try {
  const bursts = await Promise.all(Array.from({ length: connections }, attack));
  console.log(JSON.stringify({ bursts }));
} catch (err) {
  console.log(JSON.stringify({ error: String(err?.message ?? err) }));
}
