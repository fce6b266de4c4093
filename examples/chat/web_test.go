package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lxzan/gws"
)

// TestPageInChromium drives the chat page (web/) in a real headless
// Chromium: alice and bob sign up in two browser contexts (their own
// localStorage), join the lobby, see each other and each other's typing,
// talk, then bob's connection drops mid-conversation while alice goes on;
// bob's page reconnects, resumes the room, and shows every message once,
// in order.
func TestPageInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install -y chromium; .ci/run installs it): the chat page is not tested")
	}
	n := start(t, memDB(t)...)
	b := launch(t, chromium)
	alice, bob := b.page(t, "alice", n.url("/")), b.page(t, "bob", n.url("/"))

	// Sign-up errors show on the page: bob first tries a taken name and a
	// short password.
	signUp(t, alice, "alice", "password-alice")
	alice.wait(t, "alice online in #lobby", `$("state").dataset.state === "online" && $("room-name").textContent === "#lobby"`)
	signUp(t, bob, "alice", "password-bob")
	bob.wait(t, "the 409 taken error", `$("auth-error").textContent.includes("taken")`)
	signUp(t, bob, "bob", "short")
	bob.wait(t, "the 422 password error", `$("auth-error").textContent.includes("body.password")`)
	signUp(t, bob, "bob", "password-bob")
	bob.wait(t, "bob online in #lobby", `$("state").dataset.state === "online" && $("room-name").textContent === "#lobby"`)
	if s := bob.str(t, `JSON.parse(localStorage.getItem("chat.session")).username`); s != "bob" {
		t.Fatalf("bob's localStorage session is for %q", s)
	}
	if s := alice.str(t, `JSON.parse(localStorage.getItem("chat.session")).username`); s != "alice" {
		t.Fatalf("alice's localStorage session is for %q (the pages share storage?)", s)
	}

	members := `[...document.querySelectorAll("#members li")].map(li => li.textContent).join(",")`
	alice.wait(t, "bob in alice's members", members+` === "alice,bob"`)
	bob.wait(t, "alice in bob's members", members+` === "alice,bob"`)

	alice.eval(t, `$("text").value = "h"; $("text").dispatchEvent(new Event("input"))`)
	bob.wait(t, `"alice is typing" on bob's page`, `$("typing").textContent === "alice is typing…"`)

	var sent []string // every room message, in order
	say := func(p *page, text string) {
		t.Helper()
		p.eval(t, `$("text").value = `+strconv.Quote(text)+`; $("send").click()`)
		sent = append(sent, text)
	}
	shows := func(p *page, k int) {
		t.Helper()
		p.wait(t, fmt.Sprintf("%d messages on %s's page", k, p.name), `document.querySelectorAll("#messages li[data-offset]").length >= `+strconv.Itoa(k))
	}
	say(alice, "hello bob")
	shows(bob, 1)
	bob.wait(t, "alice's typing notice to go with her message", `$("typing").textContent === ""`)
	say(bob, "hi alice <img src=x onerror=alert(1)>") // text, never HTML
	shows(alice, 2)
	say(alice, "how are you?")
	shows(bob, 3)

	// A private message, shown to both and never as a room message.
	bob.eval(t, `$("to").value = "alice"; $("text").value = "psst"; $("send").click(); $("to").value = ""`)
	alice.wait(t, "bob's pm on alice's page", `[...document.querySelectorAll("#messages li[data-pm]")].some(li => li.textContent === "bob → youpsst")`)

	// Bob's network goes down: the socket closes (not a log out) and
	// reconnecting fails until it is back.
	bob.eval(t, `__chatTest.online(false); __chatTest.drop()`)
	bob.wait(t, "bob's page to show it is reconnecting", `$("state").dataset.state === "reconnecting"`)
	alice.wait(t, "bob to leave alice's members", members+` === "alice"`)
	for i := 1; i <= 5; i++ {
		say(alice, "while you were away "+strconv.Itoa(i))
	}
	shows(alice, len(sent))
	bob.eval(t, `__chatTest.online(true)`)
	bob.wait(t, "bob's page to resume", `__chatTest.resumes === 1 && $("state").dataset.state === "online"`)
	alice.wait(t, "bob back in alice's members", members+` === "alice,bob"`)
	say(bob, "back")
	say(alice, "welcome back")
	shows(bob, len(sent))
	shows(alice, len(sent))

	for _, p := range []*page{alice, bob} {
		lines := p.messages(t)
		var texts []string
		for i, l := range lines {
			texts = append(texts, l.Text)
			if i > 0 && l.Offset != lines[i-1].Offset+1 {
				t.Errorf("%s's page: offsets %d then %d, want consecutive", p.name, lines[i-1].Offset, l.Offset)
			}
		}
		if !slices.Equal(texts, sent) {
			t.Errorf("%s's page shows\n%q\nwant every message once, in order:\n%q", p.name, texts, sent)
		}
	}
	if k := bob.eval(t, `document.querySelectorAll("#messages img").length`); string(k) != "0" {
		t.Errorf("a message's HTML was parsed: %s <img> in bob's page", k)
	}
	if pms := alice.eval(t, `document.querySelectorAll("#messages li[data-pm]").length`); string(pms) != "1" {
		t.Errorf("alice's page shows %s pms, want 1", pms)
	}
}

// TestPageReloadsAfterRestart restarts the chat under alice's page: the
// new process's room history has another epoch, so her resume is answered
// with reload, and the page redraws the room from GET
// /rooms/lobby/messages, then goes on live, every message shown once.
func TestPageReloadsAfterRestart(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install -y chromium; .ci/run installs it): the chat page is not tested")
	}
	db := memDB(t)
	n := start(t, db...)
	b := launch(t, chromium)
	alice := b.page(t, "alice", n.url("/"))
	signUp(t, alice, "alice", "password-alice")
	alice.wait(t, "alice online in #lobby", `$("state").dataset.state === "online" && $("room-name").textContent === "#lobby"`)
	bobToken := signup(t, n, "bob")

	var sent []string
	say := func(text string) {
		t.Helper()
		alice.eval(t, `$("text").value = `+strconv.Quote(text)+`; $("send").click()`)
		sent = append(sent, text)
		alice.wait(t, "alice's "+strconv.Quote(text), `[...document.querySelectorAll("#messages .text")].some(e => e.textContent === `+strconv.Quote(text)+`)`)
	}
	say("before the restart 1")
	say("before the restart 2")

	// The network is down while the server restarts (same database, same
	// address; a new in-memory history); bob talks meanwhile.
	alice.eval(t, `__chatTest.online(false)`)
	n.stop(t)
	alice.wait(t, "alice's page to see the server go", `$("state").dataset.state === "reconnecting"`)
	n = startOn(t, n.addr, db...)
	bob := connect(t, n, "bob", bobToken)
	bob.send(t, map[string]string{"type": "join", "room": "lobby"})
	bob.expect(t, "joined")
	for _, text := range []string{"after the restart 1", "after the restart 2"} {
		bob.send(t, map[string]string{"type": "say", "room": "lobby", "text": text})
		bob.skip(t, "message")
		sent = append(sent, text)
	}
	alice.eval(t, `__chatTest.online(true)`)
	alice.wait(t, "alice's page to reload the room and go online", `__chatTest.reloads === 1 && $("state").dataset.state === "online"`)
	bob.send(t, map[string]string{"type": "say", "room": "lobby", "text": "live again"})
	sent = append(sent, "live again")
	alice.wait(t, "the live message after the reload", `[...document.querySelectorAll("#messages .text")].some(e => e.textContent === "live again")`)

	var lines []struct {
		ID   int64  `json:"id"`
		Text string `json:"text"`
	}
	raw := alice.eval(t, `[...document.querySelectorAll("#messages li[data-id]")].map(li => ({
		id: Number(li.dataset.id), text: li.querySelector(".text").textContent }))`)
	if err := json.Unmarshal(raw, &lines); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for i, l := range lines {
		texts = append(texts, l.Text)
		if i > 0 && l.ID <= lines[i-1].ID {
			t.Errorf("alice's page: id %d after %d, want increasing", l.ID, lines[i-1].ID)
		}
	}
	if !slices.Equal(texts, sent) {
		t.Errorf("alice's page shows\n%q\nwant every message once, in order:\n%q", texts, sent)
	}
}

// signUp fills the page's form and presses Sign up.
func signUp(t *testing.T, p *page, user, password string) {
	t.Helper()
	p.eval(t, `$("auth-error").textContent = ""; $("username").value = `+strconv.Quote(user)+
		`; $("password").value = `+strconv.Quote(password)+`; $("signup").click()`)
}

// stderrLog keeps Chromium's stderr and sends the DevTools endpoint it
// prints ("DevTools listening on ws://…") once.
type stderrLog struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	endpoint chan string
	sent     bool
}

func (l *stderrLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if !l.sent {
		const prefix = "DevTools listening on "
		s := l.buf.String()
		if i := strings.Index(s, prefix); i >= 0 {
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				l.endpoint <- strings.TrimSpace(s[i+len(prefix) : i+j])
				l.sent = true
			}
		}
	}
	return len(p), nil
}

func (l *stderrLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// browser is a headless Chromium driven over the Chrome DevTools Protocol
// (JSON over a WebSocket, https://chromedevtools.github.io/devtools-protocol/).
type browser struct {
	gws.BuiltinEventHandler
	conn *gws.Conn

	mu      sync.Mutex
	next    int
	waiting map[int]chan cdpReply
	log     []string // page exceptions and console errors, for failures
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// launch starts Chromium with a DevTools endpoint on a free port and
// connects to it; the test's end closes both.
func launch(t *testing.T, chromium string) *browser {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(), "--remote-debugging-address=127.0.0.1",
		"--remote-debugging-port=0", "about:blank")
	out := &stderrLog{endpoint: make(chan string, 1)}
	cmd.Stderr = out
	cmd.WaitDelay = 5 * time.Second // renderers may hold stderr open a moment longer
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		cancel()
		cmd.Wait()
	}
	var url string
	select {
	case url = <-out.endpoint:
	case <-time.After(60 * time.Second):
		stop()
		t.Fatalf("chromium printed no DevTools endpoint within 60s; stderr:\n%s", out)
	}
	b := &browser{waiting: map[int]chan cdpReply{}}
	conn, res, err := gws.NewClient(b, &gws.ClientOption{Addr: url, ReadMaxPayloadSize: 64 << 20, HandshakeTimeout: 10 * time.Second})
	if err != nil {
		stop()
		t.Fatalf("connecting to chromium's DevTools at %s: %v", url, err)
	}
	res.Body.Close()
	b.conn = conn
	read := make(chan struct{})
	go func() { defer close(read); conn.ReadLoop() }()
	t.Cleanup(func() {
		// Ask Chromium to quit (no answer is awaited: it closes the
		// connection), give it 10 s, then kill it.
		b.conn.WriteMessage(gws.OpcodeText, []byte(`{"id":999999,"method":"Browser.close","params":{}}`))
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cancel()
			<-exited
		}
		cancel()
		conn.NetConn().Close()
		<-read
		if t.Failed() {
			b.mu.Lock()
			t.Logf("page log:\n%s", strings.Join(b.log, "\n"))
			b.mu.Unlock()
			t.Logf("chromium stderr:\n%s", out)
		}
	})
	return b
}

func (b *browser) OnMessage(_ *gws.Conn, m *gws.Message) {
	defer m.Close()
	var msg struct {
		ID        int             `json:"id"`
		Method    string          `json:"method"`
		Params    json.RawMessage `json:"params"`
		SessionID string          `json:"sessionId"`
		cdpReply
	}
	if json.Unmarshal(m.Bytes(), &msg) != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if msg.ID != 0 {
		if ch, ok := b.waiting[msg.ID]; ok {
			delete(b.waiting, msg.ID)
			ch <- msg.cdpReply
		}
		return
	}
	switch msg.Method {
	case "Runtime.exceptionThrown", "Runtime.consoleAPICalled":
		b.log = append(b.log, msg.SessionID+" "+msg.Method+" "+string(msg.Params))
	}
}

// call sends a DevTools command (to a page's session, or the browser's
// with session "") and returns its result within 20 s.
func (b *browser) call(t *testing.T, session, method string, params any) json.RawMessage {
	t.Helper()
	ch := make(chan cdpReply, 1)
	b.mu.Lock()
	b.next++
	id := b.next
	b.waiting[id] = ch
	b.mu.Unlock()
	req := map[string]any{"id": id, "method": method, "params": params}
	if params == nil {
		req["params"] = struct{}{}
	}
	if session != "" {
		req["sessionId"] = session
	}
	data, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.conn.WriteMessage(gws.OpcodeText, data); err != nil {
		t.Fatalf("DevTools %s: %v", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			t.Fatalf("DevTools %s: %s", method, r.Error.Message)
		}
		return r.Result
	case <-time.After(20 * time.Second):
		t.Fatalf("DevTools %s: no answer within 20s", method)
	}
	return nil
}

// page is a tab of its own browser context (its own storage) on a URL.
type page struct {
	b       *browser
	name    string
	session string
}

func (b *browser) page(t *testing.T, name, url string) *page {
	t.Helper()
	var bc struct {
		BrowserContextID string `json:"browserContextId"`
	}
	json.Unmarshal(b.call(t, "", "Target.createBrowserContext", nil), &bc)
	var tg struct {
		TargetID string `json:"targetId"`
	}
	json.Unmarshal(b.call(t, "", "Target.createTarget", map[string]any{"url": "about:blank", "browserContextId": bc.BrowserContextID}), &tg)
	var at struct {
		SessionID string `json:"sessionId"`
	}
	json.Unmarshal(b.call(t, "", "Target.attachToTarget", map[string]any{"targetId": tg.TargetID, "flatten": true}), &at)
	if at.SessionID == "" {
		t.Fatalf("page %s: no DevTools session", name)
	}
	p := &page{b: b, name: name, session: at.SessionID}
	b.call(t, p.session, "Runtime.enable", nil)
	b.call(t, p.session, "Page.navigate", map[string]any{"url": url})
	p.wait(t, "the page and chat.js to load", `document.readyState === "complete" && typeof __chatTest === "object"`)
	return p
}

// eval runs JavaScript statements in the page (with $ for
// getElementById) and returns the last one's value and returns its value as
// JSON; a thrown exception fails the test.
func (p *page) eval(t *testing.T, expr string) json.RawMessage {
	t.Helper()
	var out struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	res := p.b.call(t, p.session, "Runtime.evaluate", map[string]any{
		// A block, whose value is its last statement's.
		"expression":    "{ const $ = (id) => document.getElementById(id);\n" + expr + "\n}",
		"returnByValue": true, "awaitPromise": true,
	})
	if err := json.Unmarshal(res, &out); err != nil {
		t.Fatalf("%s's page: %s: %v", p.name, res, err)
	}
	if e := out.ExceptionDetails; e != nil {
		t.Fatalf("%s's page: %s threw %s %s", p.name, expr, e.Text, e.Exception.Description)
	}
	return out.Result.Value
}

func (p *page) str(t *testing.T, expr string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(p.eval(t, expr), &s); err != nil {
		t.Fatalf("%s's page: %s is not a string: %v", p.name, expr, err)
	}
	return s
}

// wait polls a JavaScript condition every 20 ms for up to 20 s.
func (p *page) wait(t *testing.T, what, cond string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// Before chat.js loads (or during a navigation) the condition may
		// throw: that is not yet.
		v := p.eval(t, "(() => { try { return !!("+cond+"); } catch { return false; } })()")
		if string(v) == "true" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's page: waited 20s for %s (%s); state %s, page text:\n%s", p.name, what, cond,
				p.eval(t, `document.getElementById("state") && document.getElementById("state").textContent`),
				p.eval(t, `document.body ? document.body.innerText : ""`))
		}
	}
}

// line is a room message as the page shows it.
type line struct {
	Offset uint64 `json:"offset"`
	From   string `json:"from"`
	Text   string `json:"text"`
}

func (p *page) messages(t *testing.T) []line {
	t.Helper()
	var out []line
	raw := p.eval(t, `[...document.querySelectorAll("#messages li[data-offset]")].map(li => ({
		offset: Number(li.dataset.offset), from: li.querySelector(".from").textContent, text: li.querySelector(".text").textContent }))`)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s's messages %s: %v", p.name, raw, err)
	}
	return out
}
