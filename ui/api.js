// The local API and its event stream, as the screens use them.

let token = sessionStorage.getItem("kassa.token") || "";

export function signedIn() { return token !== ""; }
export function setToken(t) {
  token = t || "";
  if (token) sessionStorage.setItem("kassa.token", token); else sessionStorage.removeItem("kassa.token");
  reconnectEvents();
}

// Calls the API; resolves to {status, body}. A 401 on a signed-in call ends the session.
export async function api(method, path, body) {
  const headers = {"Content-Type": "application/json"};
  if (token) headers["Authorization"] = "Bearer " + token;
  let res;
  try {
    res = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    return {status: 0, body: {error: {code: "unavailable", field: "", message: String(e)}}};
  }
  let json = null;
  try { json = await res.json(); } catch (e) { json = null; }
  if (res.status === 401 && token && path !== "/v1/session") {
    setToken("");
    for (const f of onSignedOut) f();
  }
  // 423: the terminal serves no customer data (locked or wiped).
  if (res.status === 423) for (const f of onSealed) f();
  return {status: res.status, body: json};
}

const listeners = new Set();
const onSignedOut = new Set();
const onSealed = new Set();
export function onEvent(f) { listeners.add(f); return () => listeners.delete(f); }
export function onSessionEnded(f) { onSignedOut.add(f); }
export function onLocked(f) { onSealed.add(f); }

let socket = null;
let backoff = 500;
let timer = null;
function connectEvents() {
  const url = `ws://${location.host}/v1/events` + (token ? `?token=${token}` : "");
  socket = new WebSocket(url);
  socket.onopen = () => { backoff = 500; for (const f of listeners) f({type: "stream", connected: true}); };
  socket.onmessage = (m) => {
    let e;
    try { e = JSON.parse(m.data); } catch (err) { return; }
    for (const f of listeners) f(e);
  };
  socket.onclose = () => {
    for (const f of listeners) f({type: "stream", connected: false});
    clearTimeout(timer);
    timer = setTimeout(connectEvents, backoff);  // reconnect with backoff
    backoff = Math.min(backoff * 2, 8000);
  };
}
function reconnectEvents() {
  if (socket) { socket.onclose = null; socket.close(); }
  clearTimeout(timer);
  connectEvents();
}
export function startEvents() { connectEvents(); }
