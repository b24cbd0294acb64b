/* Agent workspace: live queue, accept, chat, close. REST for actions, socket.io /agent for news. */
(function () {
  "use strict";
  var Desk = window.Desk, el = Desk.el, $ = function (id) { return document.getElementById(id); };
  var cases = new Map(), unread = new Map(), tab = "queued", current = null, transcript, socket;
  var lastTyping = 0, lastRead = 0;

  function listFor(name) {
    var me = Desk.user;
    return Array.from(cases.values()).filter(function (c) {
      if (name === "mine") return c.status === "assigned" && c.agent_id === me.id;
      return c.status === name;
    }).sort(function (a, b) {
      return name === "queued" ? (a.queue_position || 1e9) - (b.queue_position || 1e9) || a.id - b.id : b.id - a.id;
    });
  }

  function renderList() {
    ["queued", "mine", "assigned"].forEach(function (n) {
      var b = document.querySelector('[data-count="' + n + '"]'); if (b) b.textContent = listFor(n).length;
    });
    var ul = $("case-list"); ul.textContent = "";
    var items = listFor(tab);
    if (!items.length) ul.appendChild(el("li", "case-item muted", tab === "queued" ? "暂无排队的市民" : "暂无工单"));
    items.forEach(function (c) {
      var li = el("li", "case-item" + (c.urgent ? " urgent" : "")); li.dataset.caseId = c.id; li.tabIndex = 0;
      if (current && current.id === c.id) li.setAttribute("aria-current", "true");
      var row = el("div", "row"), id = el("span", "case-id");
      id.appendChild(el("strong", null, c.tracking_no));
      // A citizen who spoke of harming themselves: first in the queue, and impossible to miss. The
      // tag follows the number, so every row's number starts at the same place.
      if (c.urgent) id.appendChild(el("span", "urgent-tag", "紧急"));
      row.appendChild(id);
      var ch = el("span", "badge badge-" + c.channel, Desk.CHANNELS[c.channel] || c.channel); ch.dataset.channel = c.channel;
      row.appendChild(ch);
      li.appendChild(row);
      var row2 = el("div", "row muted");
      row2.appendChild(el("span", null, (c.citizen ? c.citizen.name : "市民") + " · " + (Desk.REASONS[c.reason] || c.reason)));
      var side = el("span", "side", c.status === "queued" && c.queue_position ? "第" + c.queue_position + "位" :
        c.agent_name || Desk.fmtTime(c.created_at));
      if (c.status === "closed" && c.rating) {
        side.appendChild(el("span", "rating-tag" + (c.rating.score <= 2 ? " bad" : ""), c.rating.label));
      }
      row2.appendChild(side);
      if (unread.get(c.id)) row2.appendChild(el("span", "unread", String(unread.get(c.id))));
      li.appendChild(row2);
      li.onclick = function () { openCase(c.id); };
      li.onkeydown = function (ev) { if (ev.key === "Enter") openCase(c.id); };
      ul.appendChild(li);
    });
  }

  /* Live events carry a partial view of a case (e.g. case_closed has no rating, a manager's close
     names no agent): what is known about its citizen, agent, topic and rating is kept. A case back
     in the queue (its agent's account was disabled) has no agent any more. */
  var STICKY = ["citizen", "agent_name", "topic_title", "rating"];
  function upsert(c) {
    if (!c) return;
    var merged = Object.assign({}, cases.get(c.id) || {}, c), old = cases.get(c.id);
    if (old) STICKY.forEach(function (k) {
      if (c[k] == null && old[k] != null && !(k === "agent_name" && c.status === "queued")) merged[k] = old[k];
    });
    cases.set(c.id, merged);
  }

  function load() {
    var kinds = ["queued", "mine", "closed"].concat(Desk.user.role === "manager" ? ["assigned"] : []);
    return Promise.all(kinds.map(function (k) {
      return Desk.api("GET", "/api/cases/?status=" + k).then(function (d) { d.cases.forEach(upsert); });
    })).then(renderList);
  }

  function showHead() {
    var c = current;
    $("conv-title").textContent = (c.urgent ? "【紧急】" : "") + "工单 " + c.tracking_no + " · " + c.status_label;
    $("conv-meta").textContent = "渠道：" + (Desk.CHANNELS[c.channel] || c.channel) + "　市民：" + (c.citizen ? c.citizen.name : "")
      + "　转人工原因：" + (Desk.REASONS[c.reason] || c.reason) + (c.topic_title ? "　主题：" + c.topic_title : "")
      + (c.agent_name ? "　坐席：" + c.agent_name : "");
    $("conv-meta").dataset.channel = c.channel;
    var r = $("conv-rating");
    r.hidden = c.status !== "closed";
    r.className = "conv-rating" + (c.rating && c.rating.score <= 2 ? " bad" : "");
    r.textContent = !c.rating ? "市民尚未评价" :
      "市民评价：" + c.rating.label + (c.rating.comment ? "　意见：" + c.rating.comment : "");
    var mine = c.status === "assigned" && c.agent_id === Desk.user.id;
    $("accept").hidden = c.status !== "queued";
    $("close-open").hidden = c.status === "closed" || (!mine && Desk.user.role !== "manager");
    $("composer").hidden = !mine;
    showChannelInfo(c);
  }

  /* WeChat lets us message a citizen only within 48 h of their last message: show what is left. */
  function showChannelInfo(c) {
    var box = $("conv-channel");
    box.textContent = ""; box.hidden = true;
    if (c.channel !== "miniprogram") return;
    Desk.api("GET", "/api/cases/" + c.id + "/channel-info").then(function (d) {
      if (!current || current.id !== c.id) return;
      var w = d.window, text;
      if (!w || !w.open) text = "微信48小时会话窗口已关闭：新消息将无法送达，请通过电话等其他方式联系市民。";
      else {
        var h = Math.floor(w.seconds_left / 3600), m = Math.floor((w.seconds_left % 3600) / 60);
        text = "微信会话窗口剩余 " + h + " 小时 " + m + " 分，本轮还可发送 " + w.messages_left + " 条消息。";
      }
      if (d.undelivered) text += "　未送达消息 " + d.undelivered + " 条。";
      box.textContent = text; box.hidden = false;
      box.classList.toggle("warn", !w || !w.open || d.undelivered > 0);
    }).catch(function () {});
  }

  function openCase(id) {
    var c = cases.get(id);
    if (!c) return;
    current = c; unread.delete(id); lastRead = 0;
    $("conv-empty").hidden = true; $("conv-body").hidden = false; $("conv-error").textContent = "";
    $("close-form").hidden = true;
    transcript.reset(); showHead(); renderList();
    return Desk.api("GET", "/api/cases/" + id + "/messages").then(function (d) {
      if (!current || current.id !== id) return;
      d.messages.forEach(function (m) { transcript.add(m); });
      markRead();
    }).catch(function (e) { $("conv-error").textContent = e.message; });
  }

  function markRead() {
    if (!current || current.status !== "assigned" || current.agent_id !== Desk.user.id || document.hidden) return;
    var upTo = transcript.maxCitizenId();
    if (upTo > lastRead) { lastRead = upTo; Desk.api("POST", "/api/cases/" + current.id + "/read", { up_to: upTo }).catch(function () {}); }
  }

  function bindActions() {
    // One request per click: a double click must not turn a won case into "已被其他客服接入".
    function busy(button, promise) {
      button.disabled = true;
      return promise.then(function (v) { button.disabled = false; return v; },
                          function (e) { button.disabled = false; throw e; });
    }
    $("accept").onclick = function () {
      var id = current.id, button = $("accept");
      if (button.disabled) return;
      $("conv-error").textContent = "";
      busy(button, Desk.api("POST", "/api/cases/" + id + "/accept")).then(function (d) {
        upsert(d.case);
        tab = "mine"; selectTab(); openCase(id);
      }).catch(function (e) {
        $("conv-error").textContent = e.status === 409 ? "该工单已被其他客服接入或已结束。" : e.message;
        Desk.api("GET", "/api/cases/" + id).then(function (d) { upsert(d.case); current = cases.get(id); showHead(); renderList(); });
      });
    };
    $("close-open").onclick = function () { $("close-form").hidden = false; $("close-note").focus(); };
    $("close-cancel").onclick = function () { $("close-form").hidden = true; };
    $("close-form").onsubmit = function (ev) {
      ev.preventDefault();
      var id = current.id, button = $("close-form").querySelector("button[type=submit]");
      if (button && button.disabled) return;
      var request = Desk.api("POST", "/api/cases/" + id + "/close", { note: $("close-note").value });
      (button ? busy(button, request) : request).then(function (d) {
        upsert(d.case); $("close-note").value = ""; $("close-form").hidden = true;
        current = cases.get(id); showHead(); renderList();
        Desk.api("GET", "/api/cases/" + id + "/messages").then(function (r) { r.messages.forEach(function (m) { transcript.add(m); }); });
      }).catch(function (e) { $("conv-error").textContent = e.message; });
    };
    var reply = $("reply");
    $("composer").onsubmit = function (ev) {
      ev.preventDefault();
      var text = reply.value.trim(); if (!text || !current) return;
      var body = { text: text, private: $("private").checked, client_id: String(Date.now()) + Math.random().toString(16).slice(2, 8) };
      reply.value = "";
      Desk.api("POST", "/api/cases/" + current.id + "/messages", body).then(function (d) { transcript.add(d.message); })
        .catch(function (e) { $("conv-error").textContent = e.message; reply.value = text; });
    };
    reply.onkeydown = function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $("composer").requestSubmit(); }
    };
    reply.oninput = function () {
      var now = Date.now();
      if (current && !$("private").checked && now - lastTyping > 3000) {
        lastTyping = now; Desk.api("POST", "/api/cases/" + current.id + "/typing").catch(function () {});
      }
    };
    document.addEventListener("visibilitychange", markRead);
    window.addEventListener("hashchange", openFromLink);
    document.querySelectorAll(".tab").forEach(function (b) { b.onclick = function () { tab = b.dataset.tab; selectTab(); }; });
    $("logout").onclick = Desk.logout;
  }

  /* Re-read one case from the server (its rating, after the citizen rated). */
  function refresh(id) {
    return Desk.api("GET", "/api/cases/" + id).then(function (d) {
      upsert(d.case);
      if (current && current.id === id) { current = cases.get(id); showHead(); }
      renderList();
    }).catch(function () {});
  }

  /* /agent#case=<id> (the reports page links tracking numbers here): open that case. */
  function openFromLink() {
    var m = /^#case=(\d+)$/.exec(location.hash);
    if (!m) return;
    var id = Number(m[1]);
    Desk.api("GET", "/api/cases/" + id).then(function (d) {
      upsert(d.case);
      var c = cases.get(id), me = Desk.user;
      if (c.status === "assigned") tab = c.agent_id === me.id ? "mine" : (me.role === "manager" ? "assigned" : tab);
      else tab = c.status;
      selectTab(); openCase(id);
    }).catch(function (e) { $("conv-empty").textContent = "无法打开工单：" + e.message; });
  }

  function selectTab() {
    document.querySelectorAll(".tab").forEach(function (b) { b.setAttribute("aria-selected", String(b.dataset.tab === tab)); });
    renderList();
  }

  function connect() {
    socket = io("/agent", { auth: { token: Desk.token() || "" }, path: "/socket.io/" });
    var live = $("live");
    socket.on("connect", function () { live.textContent = "在线"; load(); });
    // The desk closes or refuses the connection itself when this login ended (退出 in another
    // window, 退出所有设备, account disabled, token expired); socket.io does not retry then.
    // Reloading shows the login form with the desk's reason.
    function connectionRefused() {
      live.textContent = "登录已结束";
      Desk.api("GET", "/api/auth/me").then(function () { live.textContent = "连接中断，请刷新页面"; }, function (e) {
        if (e.status === 401) location.reload(); else live.textContent = "连接中断，请刷新页面";
      });
    }
    socket.on("disconnect", function (reason) {
      if (reason === "io server disconnect") connectionRefused(); else live.textContent = "连接中断，重连中…";
    });
    socket.on("connect_error", function () {
      if (socket.active) live.textContent = "连接失败，重试中…"; else connectionRefused();
    });
    var reloadTimer = null;
    socket.on("queue_updated", function (d) {
      upsert(d.case);
      // Other waiting cases moved up: refresh positions (debounced, one request burst per change).
      clearTimeout(reloadTimer); reloadTimer = setTimeout(load, 300);
      if (current && d.case && d.case.id === current.id) { current = cases.get(current.id); showHead(); }
      renderList();
    });
    socket.on("case_message", function (d) {
      if (current && d.case_id === current.id) { transcript.add(d.message); markRead(); }
      else if (d.message && d.message.sender === "citizen") { unread.set(d.case_id, (unread.get(d.case_id) || 0) + 1); renderList(); }
    });
    socket.on("message_delivery", function (d) {
      if (current && d.case_id === current.id) transcript.setDelivery(d.message_id, d.delivery, d.delivery_error);
    });
    socket.on("case_closed", function (d) {
      upsert(d.case);
      if (current && d.case && d.case.id === current.id) { current = cases.get(current.id); showHead(); }
      renderList();
    });
    socket.on("case_rated", function (d) {
      if (current && d.case_id === current.id) {
        $("conv-error").textContent = "";
        transcript.c.appendChild(el("div", "divider", "市民已评价：" + d.score + " 分"));
      }
      refresh(d.case_id);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    transcript = new Desk.Transcript($("transcript"));
    bindActions();
    Desk.requireLogin(["agent", "manager"]).then(function (user) {
      $("me").textContent = user.display_name + (user.role === "manager" ? "（管理员）" : "");
      $("logout").hidden = false; $("workspace").hidden = false;
      if (user.role === "manager") document.querySelectorAll(".manager-only").forEach(function (n) { n.hidden = false; });
      connect();
      openFromLink();
    }).catch(function (e) { document.querySelector(".login-error").textContent = e.message; });
  });
})();
