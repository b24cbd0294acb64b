/* The conversation: Rasa socket.io protocol plus resume-by-message-id.
   Outgoing messages wait in an outbox (kept across reloads) until the server acks them;
   each carries a client id, so a resend after a dropped connection is stored once. */
(function () {
  "use strict";
  var ZW = (window.ZW = window.ZW || {});
  var baseUrl = (document.body.dataset.deskUrl || location.origin).replace(/\/$/, "");
  var socket = io(baseUrl, { path: "/socket.io/", reconnectionDelay: 500, reconnectionDelayMax: 4000 });
  var sessionId = ZW.store.get("session"), confirmed = false, flushing = false;
  var outbox = ZW.store.getJSON("outbox", []);
  var state = { status: "bot" }, statePoll = null, typingTimer = null;

  function setStatus(next) {
    state = Object.assign({}, state, next);
    var app = ZW.$("zw-app"), text;
    app.dataset.state = state.status;
    if (!socket.connected) text = "网络已断开，正在重新连接…";
    else if (state.status === "queued") {
      var pos = state.queue_position;
      text = pos == null ? "正在为您转接人工客服…" : pos <= 1 ? "排队中：您是下一位" : "排队中：您前面还有 " + (pos - 1) + " 位";
    } else if (state.status === "assigned") text = "人工客服" + (state.agent_name ? " " + state.agent_name : "") + " 为您服务";
    else if (state.status === "closed") text = "人工服务已结束，可继续问智能客服";  // one line at 320 px, elder too
    else text = "智能客服为您服务";
    var status = ZW.$("zw-status");
    status.textContent = text;
    status.title = text;  // the status never wraps; if a phone is too narrow it ends in "…", whole here
    clearInterval(statePoll);
    if (state.status === "queued") statePoll = setInterval(refreshState, 10000);
  }

  function refreshState() {
    if (!confirmed) return;
    socket.timeout(8000).emitWithAck("citizen_state", {}).then(setStatus).catch(function () {});
  }

  function onMessage(m, live) {
    var meta = m.metadata || {};
    // Any desk notice that names the place in the queue (queued, a crisis moved ahead, ...) updates it.
    if (meta.event === "queued" || (m.sender === "system" && meta.queue_position != null)) {
      setStatus({ status: "queued", queue_position: meta.queue_position });
    }
    else if (meta.event === "assigned") setStatus({ status: "assigned", agent_name: meta.agent_name });
    else if (meta.event === "rating_request") setStatus({ status: "closed" });
    else if (m.sender === "agent") { ZW.$("zw-typing").hidden = true; }
    if (live && m.sender !== "citizen" && document.body.classList.contains("zw-elder") && ZW.speech.canSpeak) {
      ZW.speech.speak(m.text);
    }
  }

  /* Shown (not stored) to a citizen with no history, so the page never opens blank. */
  var WELCOME = {
    sender: "bot", metadata: { event: "welcome" },
    text: "您好！我是示例市政务服务智能客服，可以解答社保、医保、公积金、户籍、证件、出入境、车驾管、" +
      "企业开办、税务、不动产、民政、教育、就业等办事问题。请直接输入您的问题，需要人工服务请点“转人工”。",
    buttons: [
      { title: "社保卡补办", payload: "/shebao_ka" }, { title: "公积金提取", payload: "/gjj_tiqu" },
      { title: "异地就医备案", payload: "/yibao_yidi" }, { title: "办事大厅地址", payload: "/dating_dizhi" }
    ]
  };

  function loadHistory(afterId) {
    return socket.timeout(15000).emitWithAck("history_request", { after_id: afterId }).then(function (res) {
      if (!res || !res.ok) return;
      if (afterId === 0 && !res.messages.length && !ZW.render.ids().length) ZW.render.add(WELCOME, { history: true });
      res.messages.forEach(function (item) { ZW.render.add(item, { history: true }); });
      if (res.state) setStatus(res.state);
      if (res.has_more && afterId > 0) return loadHistory(ZW.render.lastId());
      if (afterId === 0) ZW.$("zw-older").hidden = !res.has_more;
      ZW.render.scrollDown();
    });
  }

  function loadOlder() {
    var ids = ZW.render.ids();
    if (!ids.length) return;
    socket.timeout(15000).emitWithAck("history_request", { before_id: Math.min.apply(null, ids) }).then(function (res) {
      if (!res || !res.ok) return;
      res.messages.forEach(function (item) { ZW.render.add(item, { history: true }); });
      ZW.$("zw-older").hidden = !res.has_more;
    }).catch(function () { ZW.hint("加载失败，请稍后再试。"); });
  }

  function flush() {
    if (flushing || !confirmed || !outbox.length) return;
    flushing = true;
    var m = outbox[0];
    var data = { message: m.text, session_id: sessionId, message_id: m.cid,
      metadata: m.display ? { display_text: m.display } : {} };
    socket.timeout(30000).emitWithAck("user_uttered", data).then(function (res) {
      outbox.shift();
      if (res && res.ok) ZW.render.ack(m.cid, res.message_id);
      else ZW.render.fail(m.cid, res && res.error === "rate_limited" ? "未发送（太频繁）" : "未发送");
    }).catch(function () { /* timeout or dropped: keep it, resend after reconnect */ })
      .then(function () { ZW.store.setJSON("outbox", outbox); flushing = false; if (socket.connected) flush(); });
  }

  function send(text, display) {
    text = (text || "").trim();
    if (!text) return;
    var cid = ZW.uuid();
    ZW.render.add({ sender: "citizen", client_id: cid, text: text, metadata: display ? { display_text: display } : {} });
    outbox.push({ cid: cid, text: text, display: display || null });
    ZW.store.setJSON("outbox", outbox);
    flush();
  }

  function adoptIdentity(token, sid) {
    ZW.store.set("token", token);
    if (sid) { ZW.store.set("session", sid); sessionId = sid; }
    ZW.render.clear();
    loadHistory(0);
  }

  socket.on("connect", function () {
    confirmed = false;
    socket.emit("session_request", { session_id: sessionId, citizen_token: ZW.store.get("token") || "" });
  });
  socket.on("session_identity", function (d) { if (d && d.citizen_token) ZW.store.set("token", d.citizen_token); });
  socket.on("session_confirm", function (sid) {
    sessionId = typeof sid === "object" && sid ? sid.session_id : sid;
    ZW.store.set("session", sessionId);
    confirmed = true;
    setStatus({});
    ZW.$("zw-banner").hidden = true;
    loadHistory(ZW.render.lastId()).then(flush, flush);
  });
  socket.on("disconnect", function () {
    confirmed = false;
    setStatus({});
    var b = ZW.$("zw-banner"); b.textContent = "网络已断开，正在重新连接。您输入的消息会在恢复后自动发送。"; b.hidden = false;
  });
  socket.on("bot_uttered", function (d) {
    var m = ZW.render.normalize(d);
    if (ZW.render.add(d)) onMessage(m, true);
  });
  socket.on("citizen_message", function (d) { ZW.render.add(d); });
  socket.on("read_receipt", function (d) { ZW.render.markRead(d && d.message_ids); });
  socket.on("agent_typing", function (d) {
    var t = ZW.$("zw-typing");
    t.textContent = "人工客服" + (d && d.agent_name ? " " + d.agent_name : "") + " 正在输入…";
    t.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { t.hidden = true; }, 5000);
  });

  function setElder(on) {
    document.body.classList.toggle("zw-elder", on);
    ZW.$("zw-elder").setAttribute("aria-pressed", String(on));
    ZW.$("zw-elder").textContent = on ? "标准版" : "长辈版";  // short: one line on a 360 px phone
    ZW.store.set("elder", on ? "1" : "0");
  }

  document.addEventListener("DOMContentLoaded", function () {
    setElder(ZW.store.get("elder") === "1");
    outbox.forEach(function (m) {
      ZW.render.add({ sender: "citizen", client_id: m.cid, text: m.text, metadata: m.display ? { display_text: m.display } : {} });
    });
    var input = ZW.$("zw-input");
    ZW.$("zw-form").addEventListener("submit", function (ev) {
      ev.preventDefault(); send(input.value); input.value = ""; input.focus();
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); ZW.$("zw-form").requestSubmit(); }
    });
    ZW.$("zw-older").addEventListener("click", loadOlder);
    ZW.$("zw-handoff").addEventListener("click", function () { send("/human_handoff", "转人工"); });
    ZW.$("zw-elder").addEventListener("click", function () { setElder(!document.body.classList.contains("zw-elder")); });
    ZW.$("zw-mic").addEventListener("click", function () {
      ZW.speech.listen(function (t) { input.value = (input.value + t).slice(0, 2000); input.focus(); });
    });
    if (!ZW.speech.canListen) ZW.$("zw-mic").title = "当前浏览器不支持语音输入";
  });

  ZW.chat = { socket: socket, send: send, baseUrl: baseUrl, adoptIdentity: adoptIdentity,
    ready: function () { return confirmed; }, state: function () { return state; },
    outbox: function () { return outbox.slice(); } };
})();
