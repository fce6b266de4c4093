// Drives graft-ws.js for ws/client_test.go: node --experimental-websocket
// graft-ws-driver.js CLIENT.js URL TOPIC... prints one JSON event per line
// on stdout and reads commands from stdin ("send TEXT", "close").
"use strict";
const { GraftSocket } = require(process.argv[2]);
const url = process.argv[3];
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const sock = new GraftSocket(url, { minDelay: 20, maxDelay: 200 });
sock.onopen = () => out({ event: "open" });
sock.onclose = (code) => out({ event: "close", code });
sock.onmessage = (data) => out({ event: "message", data });
for (const topic of process.argv.slice(4)) {
  sock.subscribe(topic, {
    onPublication: (p) =>
      out({ event: "pub", topic: p.topic, epoch: p.epoch, offset: p.offset, text: p.text, data: p.data, binary: p.binary && Array.from(p.binary) }),
    onReset: (i) => out({ event: "reset", topic: i.topic, reason: i.reason, offset: i.offset }),
    onSubscribed: (m) => out({ event: "subscribed", topic: m.topic, recovered: m.recovered, offset: m.offset }),
    onError: (m) => out({ event: "error", topic: m.topic, error: m.error }),
  });
}
let buf = "";
process.stdin.on("data", (chunk) => {
  buf += chunk;
  let i;
  while ((i = buf.indexOf("\n")) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (line.startsWith("send ")) sock.send(line.slice(5));
    if (line === "close") {
      sock.close();
      process.exit(0);
    }
  }
});
process.stdin.on("end", () => {
  sock.close();
  process.exit(0);
});
