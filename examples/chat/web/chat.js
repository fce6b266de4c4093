// The graft chat page: plain JavaScript, no build step. It speaks the
// protocol of main.go's package comment: POST /users or /login for a
// token, then JSON messages over /ws?token=…. It joins one room at a
// time and, when the connection drops, reconnects and resumes the room
// from the last message it showed, so that none is lost or doubled.
"use strict";

const $ = (id) => document.getElementById(id);

let session = JSON.parse(localStorage.getItem("chat.session") || "null"); // {username, token}
let ws = null;            // the current WebSocket
let deliberate = false;   // the close was ours (log out): do not reconnect
let retries = 0;          // reconnect attempts since the last open
let retryTimer = null;
// The room: its name, where its stream stands (epoch, offset of the last
// message shown) and the highest message id shown (a guard after a reload).
let room = { name: "", epoch: "", offset: 0, lastID: 0, loading: false, pending: [] };
const members = new Set();
const typists = new Map(); // user → timer that hides "user is typing"
let lastTyping = 0;
// For the page's test (window.__chatTest): drop the connection as a
// network failure would, and hold the "network" down until online(true).
const test = { online: true, resumes: 0, reloads: 0 };

function setState(s) {
  $("state").textContent = s;
  $("state").dataset.state = s;
}

function showError(msg) { $("error").textContent = msg || ""; }

// --- Sign up, log in, log out ---

$("auth").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const path = ev.submitter && ev.submitter.value === "login" ? "/login" : "/users";
  $("auth-error").textContent = "";
  const body = JSON.stringify({ username: $("username").value, password: $("password").value });
  let res, out;
  try {
    res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    out = await res.json();
  } catch (err) {
    $("auth-error").textContent = "The server did not answer: " + err.message;
    return;
  }
  if (!res.ok) { // problem+json: 409 taken, 422 invalid, 401 wrong password, 429
    const fields = (out.errors || []).map((e) => e.location + ": " + e.message);
    $("auth-error").textContent = [out.detail || out.title || res.statusText, ...fields].join("; ");
    return;
  }
  session = { username: out.username, token: out.token };
  localStorage.setItem("chat.session", JSON.stringify(session));
  $("password").value = "";
  start();
});

$("logout").addEventListener("click", () => {
  deliberate = true;
  clearTimeout(retryTimer);
  retryTimer = null;
  if (ws) ws.close(1000, "log out");
  localStorage.removeItem("chat.session");
  session = null;
  room = { name: "", epoch: "", offset: 0, lastID: 0, loading: false, pending: [] };
  $("messages").replaceChildren();
  members.clear();
  drawMembers();
  setState("offline");
  showPage();
});

function showPage() {
  $("auth").hidden = !!session;
  $("chat").hidden = !session;
  $("logout").hidden = !session;
  $("me").textContent = session ? "as " + session.username : "";
}

function start() {
  showPage();
  deliberate = false;
  connect();
}

// --- The connection ---

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function connect() {
  setState(retries ? "reconnecting" : "connecting");
  if (!test.online) { retry(); return; }
  let opened = false;
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host +
    "/ws?token=" + encodeURIComponent(session.token));
  ws.onopen = () => {
    opened = true;
    retries = 0;
    if (room.epoch) { // back after a drop: every message after the last one shown
      setState("resuming");
      send({ type: "resume", room: room.name, epoch: room.epoch, offset: room.offset });
    } else {
      setState("online");
      join($("room").value || "lobby");
    }
  };
  ws.onmessage = (ev) => handle(JSON.parse(ev.data));
  ws.onclose = async () => {
    if (deliberate) return;
    if (!opened && !(await tokenValid())) { // the server refused the token (401)
      $("logout").click();
      $("auth-error").textContent = "Your session expired: log in again.";
      return;
    }
    retry();
  };
}

// retry reconnects after 0.25 s, 0.5 s, 1 s… up to 5 s.
function retry() {
  setState("reconnecting");
  const delay = Math.min(5000, 250 * 2 ** retries++);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => { retryTimer = null; if (!deliberate) connect(); }, delay);
}

// When the network comes back, a waiting reconnect goes now.
window.addEventListener("online", () => {
  if (!retryTimer) return;
  clearTimeout(retryTimer);
  retryTimer = null;
  connect();
});

async function tokenValid() {
  try {
    const res = await fetch("/me", { headers: { Authorization: "Bearer " + session.token } });
    return (await res.json()).name === session.username;
  } catch { return true; } // the server is down: keep trying
}

function join(name) {
  if (room.name && room.name !== name) send({ type: "leave", room: room.name });
  room = { name, epoch: "", offset: 0, lastID: 0, loading: false, pending: [] };
  $("messages").replaceChildren();
  members.clear();
  drawMembers();
  send({ type: "join", room: name });
}

// handle acts on one server message.
function handle(m) {
  if (m.room && m.room !== room.name) return; // a room we left
  switch (m.type) {
    case "joined":
      room.epoch = m.epoch;
      room.offset = m.offset;
      $("room-name").textContent = "#" + m.room;
      m.members.forEach((u) => members.add(u));
      drawMembers();
      break;
    case "presence":
      if (m.event === "join") members.add(m.user); else members.delete(m.user);
      drawMembers();
      break;
    case "message":
      if (room.loading) room.pending.push(m); else showMessage(m);
      break;
    case "resumed":
      test.resumes++;
      setState("online");
      break;
    case "reload": // the history cannot continue from our offset: redraw it
      reload(m.epoch, m.offset);
      break;
    case "typing":
      showTyping(m.user);
      break;
    case "pm":
      addLine({ from: m.from + " → you", text: m.message, pm: true });
      break;
    case "error":
      showError(m.error);
      break;
  }
}

// showMessage shows a room message once: one at or before the last offset
// (or id, after a reload) was shown already.
function showMessage(m) {
  if (m.offset <= room.offset || m.id <= room.lastID) return;
  room.offset = m.offset;
  room.lastID = m.id;
  addLine(m);
  typists.has(m.from) && hideTyping(m.from);
}

async function reload(epoch, offset) {
  setState("reloading");
  room.loading = true;
  room.pending = [];
  try {
    const res = await fetch("/rooms/" + encodeURIComponent(room.name) + "/messages?limit=50",
      { headers: { Authorization: "Bearer " + session.token } });
    if (!res.ok) throw new Error("HTTP " + res.status);
    const history = await res.json();
    $("messages").replaceChildren();
    room.lastID = 0;
    for (const h of history) { addLine(h); room.lastID = h.id; }
  } catch (err) {
    showError("Could not load the room's history: " + err.message);
  }
  room.epoch = epoch;
  room.offset = offset;
  room.loading = false;
  room.pending.forEach(showMessage);
  room.pending = [];
  test.reloads++;
  setState("online");
}

// --- Drawing (textContent only: user text is never parsed as HTML) ---

function addLine(m) {
  const li = document.createElement("li");
  if (m.pm) li.className = "pm", li.dataset.pm = "";
  if (m.offset) li.dataset.offset = m.offset;
  if (m.id) li.dataset.id = m.id;
  if (m.ts) li.title = m.ts;
  const from = document.createElement("span");
  from.className = "from";
  from.textContent = m.from;
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = m.text;
  li.append(from, text);
  const list = $("messages");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.append(li);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function drawMembers() {
  $("members").replaceChildren(...[...members].sort().map((u) => {
    const li = document.createElement("li");
    li.textContent = u;
    li.dataset.user = u;
    return li;
  }));
}

function showTyping(user) {
  clearTimeout(typists.get(user));
  typists.set(user, setTimeout(() => hideTyping(user), 3000));
  drawTyping();
}

function hideTyping(user) {
  clearTimeout(typists.get(user));
  typists.delete(user);
  drawTyping();
}

function drawTyping() {
  const who = [...typists.keys()].sort();
  $("typing").textContent = who.length === 0 ? "" : who.join(", ") + (who.length === 1 ? " is typing…" : " are typing…");
}

// --- The forms ---

$("join").addEventListener("submit", (ev) => {
  ev.preventDefault();
  join($("room").value);
});

$("text").addEventListener("input", () => {
  const now = Date.now();
  if (now - lastTyping < 1000 || !room.epoch || $("to").value) return; // at most one a second
  lastTyping = now;
  send({ type: "typing", room: room.name });
});

$("say").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("text").value, to = $("to").value.trim();
  if (!text || !ws || ws.readyState !== WebSocket.OPEN) { showError("Not connected: the message was not sent."); return; }
  showError("");
  if (to) {
    send({ type: "pm", to, message: text });
    addLine({ from: "you → " + to, text, pm: true });
  } else {
    send({ type: "say", room: room.name, text });
  }
  $("text").value = "";
});

window.__chatTest = {
  // drop closes the socket without logging out, as a network failure does.
  drop() { if (ws) ws.close(); },
  // online(false) makes connection attempts fail until online(true).
  online(up) { test.online = up; if (up) window.dispatchEvent(new Event("online")); },
  get resumes() { return test.resumes; },
  get reloads() { return test.reloads; },
};

if (session) start(); else showPage();
