// graft-ws.js: the browser client of graft's WebSocket topic protocol
// (docs/websocket.md, "History and recovery"). It keeps one WebSocket
// open, reconnecting with exponential backoff and jitter, and resumes
// every topic it subscribed to from the epoch and offset of the last
// publication it processed, so that a topic with a history delivers each
// publication once and in order across reconnects. When the server says
// the missed publications cannot all be given (the history was trimmed or
// lost), onReset tells the app to reload its state.
//
//   <script src="/graft-ws.js"></script>
//   const sock = new GraftSocket("wss://example.com/ws");
//   sock.subscribe("chat.lobby", {
//     onPublication(p) { show(p.data) },       // p.topic, p.epoch, p.offset, p.data | p.text | p.binary
//     onReset(info) { reloadRoom() },         // info.reason: "epoch changed", "history trimmed", …
//   });
//   sock.onmessage = (data) => {};            // the app's own messages
//   sock.send(JSON.stringify({to: "bob", message: "hi"}));
//
// Works in browsers and in Node with a global WebSocket (Node 22, or 20
// with --experimental-websocket); options.WebSocket may supply another.
(function (root) {
  "use strict";

  class GraftSocket {
    // options: minDelay (ms, default 250), maxDelay (ms, default 10000),
    // WebSocket (constructor, default globalThis.WebSocket), protocols.
    constructor(url, options = {}) {
      this.url = url;
      this.minDelay = options.minDelay ?? 250;
      this.maxDelay = options.maxDelay ?? 10000;
      this.protocols = options.protocols;
      this.WebSocket = options.WebSocket ?? root.WebSocket;
      if (typeof this.WebSocket !== "function") {
        throw new Error("graft-ws: no WebSocket implementation (pass options.WebSocket)");
      }
      this.topics = new Map(); // topic -> {handlers, epoch, offset, resyncing}
      this.attempt = 0;
      this.closed = false;
      this.ws = null;
      this.timer = null;
      // Set by the app: onopen(), onclose(code, reason), onmessage(data).
      this.onopen = null;
      this.onclose = null;
      this.onmessage = null;
      this._connect();
    }

    // subscribe starts receiving topic. handlers: onPublication(pub),
    // onReset({topic, reason, epoch, offset}), onSubscribed(msg),
    // onError(msg). from ({epoch, offset}, e.g. saved by the app) resumes
    // after that publication instead of starting fresh.
    subscribe(topic, handlers = {}, from = null) {
      const sub = { handlers, epoch: from?.epoch ?? "", offset: from?.offset ?? 0, resyncing: true };
      this.topics.set(topic, sub);
      this._sendSubscribe(topic, sub);
    }

    unsubscribe(topic) {
      if (this.topics.delete(topic)) {
        this._send({ type: "unsubscribe", topic });
      }
    }

    // position returns {epoch, offset} of the last publication processed
    // on topic, to save and pass to subscribe later; null if unknown.
    position(topic) {
      const sub = this.topics.get(topic);
      return sub && sub.epoch ? { epoch: sub.epoch, offset: sub.offset } : null;
    }

    // send sends an app message; it returns false while disconnected.
    send(data) {
      if (this.ws && this.ws.readyState === 1) {
        this.ws.send(data);
        return true;
      }
      return false;
    }

    // close closes the connection for good.
    close(code = 1000, reason = "") {
      this.closed = true;
      clearTimeout(this.timer);
      if (this.ws) this.ws.close(code, reason);
    }

    _connect() {
      const ws = this.protocols ? new this.WebSocket(this.url, this.protocols) : new this.WebSocket(this.url);
      this.ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        this.attempt = 0;
        for (const [topic, sub] of this.topics) this._sendSubscribe(topic, sub);
        if (this.onopen) this.onopen();
      };
      const ended = (code, reason) => {
        if (this.ws !== ws) return; // handled already
        this.ws = null;
        if (opened && this.onclose) this.onclose(code, reason);
        if (!this.closed) this._reconnectLater();
      };
      ws.onmessage = (ev) => this._receive(ev.data);
      ws.onclose = (ev) => ended(ev.code, ev.reason);
      // A refused handshake: browsers fire error then close, some
      // runtimes (Node 20) only error.
      ws.onerror = () => {
        if (!opened) ended(1006, "");
      };
    }

    _reconnectLater() {
      const base = Math.min(this.maxDelay, this.minDelay * 2 ** this.attempt);
      this.attempt++;
      const delay = base / 2 + Math.random() * (base / 2);
      this.timer = setTimeout(() => this._connect(), delay);
    }

    _send(msg) {
      return this.send(JSON.stringify(msg));
    }

    _sendSubscribe(topic, sub) {
      sub.resyncing = true;
      const req = { type: "subscribe", topic };
      if (sub.epoch) {
        req.epoch = sub.epoch;
        req.offset = sub.offset;
      }
      this._send(req);
    }

    _receive(data) {
      let msg = null;
      if (typeof data === "string" && data.charCodeAt(0) === 123 /* { */) {
        try {
          msg = JSON.parse(data);
        } catch (_) {
          msg = null;
        }
      }
      const type = msg && protocolTypes.has(msg.type) ? msg.type : "";
      if (!type) {
        if (this.onmessage) this.onmessage(data);
        return;
      }
      const sub = this.topics.get(msg.topic);
      if (sub === undefined) return; // a topic given up meanwhile
      switch (type) {
        case "pub":
          return this._publication(msg, sub);
        case "subscribed":
          sub.resyncing = false;
          // Recovered: the missed publications follow and move the
          // position themselves. Otherwise continue from the top.
          if (msg.epoch !== undefined && msg.recovered !== true) {
            sub.epoch = msg.epoch;
            sub.offset = msg.offset;
          }
          if (msg.recovered === false && sub.handlers.onReset) {
            sub.handlers.onReset({ topic: msg.topic, reason: msg.reason, epoch: msg.epoch, offset: msg.offset });
          }
          if (sub.handlers.onSubscribed) sub.handlers.onSubscribed(msg);
          return;
        case "error":
          if (sub.handlers.onError) sub.handlers.onError(msg);
          if (msg.request === "subscribe") {
            // The history may be coming back (a broker restart): retry.
            setTimeout(() => {
              if (this.topics.get(msg.topic) === sub) this._sendSubscribe(msg.topic, sub);
            }, Math.min(this.maxDelay, this.minDelay * 4));
          }
          return;
      }
    }

    _publication(msg, sub) {
      if (sub.resyncing) return; // the recovery that follows includes it
      if (sub.epoch && (msg.epoch !== sub.epoch || msg.offset > sub.offset + 1)) {
        // A hole (a message dropped under backpressure, a lost bus
        // message) or a new stream: ask for what is missing.
        this._sendSubscribe(msg.topic, sub);
        return;
      }
      if (sub.epoch && msg.offset <= sub.offset) return; // seen already
      sub.epoch = msg.epoch;
      sub.offset = msg.offset;
      const pub = { topic: msg.topic, epoch: msg.epoch, offset: msg.offset };
      if ("data" in msg) pub.data = msg.data;
      if ("text" in msg) pub.text = msg.text;
      if ("binary" in msg) pub.binary = decodeBase64(msg.binary);
      if (sub.handlers.onPublication) sub.handlers.onPublication(pub);
    }
  }

  const protocolTypes = new Set(["pub", "subscribed", "unsubscribed", "error"]);

  function decodeBase64(s) {
    const bin = root.atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  root.GraftSocket = GraftSocket;
  if (typeof module === "object" && module.exports) module.exports = { GraftSocket };
})(typeof globalThis !== "undefined" ? globalThis : this);
