/* The message list: one node per message id, always in id order, never twice.
   Citizen messages are shown at once (pending, keyed by client id) and get their id on ack. */
(function () {
  "use strict";
  var ZW = (window.ZW = window.ZW || {});
  var byId = new Map(), byClient = new Map(), ratedCases = new Set();
  /* An answer taller than the message list whose start is being shown; the messages of the same
     turn that follow it (related-topic buttons, a notice) must not scroll it away. */
  var pinned = null, PIN_MS = 4000, PIN_GAP = 8;
  var WHO = { bot: "智能客服", system: "系统消息", citizen: "我" };

  function log() { return ZW.$("zw-log"); }

  /* Any wire shape (bot_uttered, history item, citizen_message echo) → one shape. */
  function normalize(d) {
    var meta = d.metadata || {};
    var buttons = (d.quick_replies || d.buttons || []).map(function (b) {
      return { title: b.title, payload: b.payload };
    });
    var att = d.attachment || null;
    if (att && att.payload) att = { type: att.type, url: att.payload.src || att.payload.url, name: att.payload.name };
    if (!att && d.image) att = { type: "image", url: d.image };
    var id = d.id || meta.message_id || null;
    return {
      id: id ? Number(id) : null, client_id: d.client_id || null, sender: d.sender || meta.sender || "bot",
      kind: d.kind || (att && att.type) || "text", text: d.text || "", buttons: buttons, attachment: att,
      metadata: meta, read: !!d.read, conversation_id: d.conversation_id || null, created_at: d.created_at || null
    };
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function citizenText(m) {
    if (m.metadata && m.metadata.display_text) return m.metadata.display_text;
    if (/^\/rate\{/.test(m.text)) {
      try { var r = JSON.parse(m.text.slice(5)); return "评价：" + r.score + " 分" + (r.comment ? "，" + r.comment : ""); }
      catch (e) { return "评价"; }
    }
    if (m.text === "/human_handoff") return "转人工";
    return m.text;
  }

  function attachmentNode(att) {
    if (att.type === "image" && att.url) {
      var a = el("a"); a.href = att.url; a.target = "_blank"; a.rel = "noopener";
      var img = el("img"); img.src = att.url; img.alt = att.name || "图片"; a.appendChild(img);
      return a;
    }
    var f = el("a", null, "文件：" + (att.name || "文件")); f.href = att.url || "#"; f.target = "_blank"; f.rel = "noopener";
    return f;
  }

  function ratingCard(m) {
    var box = el("div", "zw-rating"), chosen = null;
    box.dataset.case = m.metadata.case || "";
    box.appendChild(el("div", null, "请为本次服务打分："));
    var opts = el("div", "zw-rating-options");
    var options = m.metadata.rating_options || m.buttons.map(function (b) {
      var s = /"score":\s*(\d)/.exec(b.payload); return { score: s ? Number(s[1]) : 0, label: b.title };
    });
    options.forEach(function (o) {
      var b = el("button", "zw-btn", o.label); b.type = "button"; b.dataset.score = o.score;
      b.setAttribute("aria-pressed", "false");
      b.onclick = function () {
        chosen = o;
        opts.querySelectorAll("button").forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
        submit.disabled = false;
      };
      opts.appendChild(b);
    });
    box.appendChild(opts);
    // The desk refuses (never cuts) a longer comment; the card says the limit and keeps to it.
    var max = Number(m.metadata.comment_max_chars) || 500;
    var label = el("label", null, "意见或建议（可不填，最多" + max + "字）："), ta = el("textarea");
    ta.maxLength = max; ta.rows = 2; label.appendChild(ta); box.appendChild(label);
    var submit = el("button", "zw-btn zw-btn-primary", "提交评价"); submit.type = "button"; submit.disabled = true;
    submit.onclick = function () {
      if (!chosen) return;
      var payload = {};  // the case first: the desk rates exactly the case this card is about
      if (box.dataset.case) payload["case"] = box.dataset.case;
      payload.score = chosen.score;
      if (ta.value.trim()) payload.comment = ta.value.trim();
      ZW.chat.send("/rate" + JSON.stringify(payload), "评价：" + chosen.label + (payload.comment ? "，" + payload.comment : ""));
      disableCard(box, "已提交评价，谢谢！");
    };
    box.appendChild(submit);
    if (ratedCases.has(box.dataset.case)) disableCard(box, "已评价");
    return box;
  }

  /* The desk did not take the rating (comment too long): the card is usable again, with what
     the citizen wrote still in it, and says why. */
  function reopenCard(box, text) {
    if (ratedCases.has(box.dataset.case)) return;
    box.querySelectorAll("button[data-score], textarea").forEach(function (x) { x.disabled = false; });
    var chosen = box.querySelector('button[aria-pressed="true"]');
    box.querySelector(".zw-btn-primary").disabled = !chosen;
    var note = box.querySelector(".zw-rated") || box.appendChild(el("div", "zw-hint zw-rated", ""));
    note.textContent = text;
    note.dataset.kind = "retry";
  }

  /* Sent or accepted: the card is closed and says so. A note that asked for a shorter comment
     is replaced (it no longer holds); a note already saying it was sent is kept. With the
     accepted score (the desk's "rated" answer carries it) that option shows as chosen, also
     when the card is rebuilt from history. */
  function disableCard(box, text, score) {
    box.querySelectorAll("button, textarea").forEach(function (x) { x.disabled = true; });
    if (score != null) {
      box.querySelectorAll("button[data-score]").forEach(function (x) {
        x.setAttribute("aria-pressed", String(Number(x.dataset.score) === Number(score)));
      });
    }
    var note = box.querySelector(".zw-rated");
    if (!note) note = box.appendChild(el("div", "zw-hint zw-rated", ""));
    else if (note.dataset.kind !== "retry") return;
    note.textContent = text;
    note.dataset.kind = "done";
  }

  function build(m) {
    var node = el("div", "zw-msg zw-from-" + m.sender);
    var who = m.sender === "agent" ? "人工客服" + (m.metadata.agent_name ? " " + m.metadata.agent_name : "") : WHO[m.sender];
    if (m.sender !== "citizen") node.appendChild(el("div", "zw-who", who || ""));
    var bubble = el("div", "zw-bubble");
    if (m.attachment && m.attachment.url) bubble.appendChild(attachmentNode(m.attachment));
    else bubble.textContent = m.sender === "citizen" ? citizenText(m) : m.text;
    if (m.attachment && m.attachment.url && m.text && m.sender !== "citizen") bubble.appendChild(el("div", null, m.text));
    node.appendChild(bubble);
    var meta = el("div", "zw-meta");
    if (m.sender === "citizen") {
      meta.appendChild(el("span", "zw-state", m.id ? (m.read ? "已读" : "已送达") : "发送中…"));
      if (m.read) meta.lastChild.classList.add("zw-read");
    } else if (m.text && ZW.speech && ZW.speech.canSpeak) {
      var sp = el("button", "zw-speak", "朗读"); sp.type = "button"; sp.setAttribute("aria-label", "朗读这条消息");
      sp.onclick = function () { ZW.speech.speak(m.text); };
      meta.appendChild(sp);
    }
    node.appendChild(meta);
    if (m.metadata.event === "rating_request") {
      node.appendChild(ratingCard(m));
    } else if (m.buttons.length) {
      var row = el("div", "zw-buttons");
      m.buttons.forEach(function (b) {
        var btn = el("button", "zw-btn", b.title); btn.type = "button";
        btn.onclick = function () { ZW.chat.send(b.payload, b.title); };
        row.appendChild(btn);
      });
      node.appendChild(row);
    }
    return node;
  }

  function place(node, id) {
    var container = log(), kids = container.querySelectorAll(".zw-msg[data-id]");
    for (var i = 0; i < kids.length; i++) {
      if (Number(kids[i].dataset.id) > id) { container.insertBefore(node, kids[i]); return; }
    }
    container.appendChild(node);
  }

  function markConversation(node) {
    var prev = node.previousElementSibling;
    while (prev && !prev.classList.contains("zw-msg")) prev = prev.previousElementSibling;
    var conv = node.dataset.conv;
    if (conv && prev && prev.dataset.conv && prev.dataset.conv !== conv) {
      var d = el("div", "zw-divider", "—— 新的咨询 ——");
      node.parentNode.insertBefore(d, node);
    }
  }

  function noteEvents(m) {
    var ev = m.metadata.event;
    if (ev === "rating_too_long" && m.metadata.case) {
      document.querySelectorAll('.zw-rating[data-case="' + m.metadata.case + '"]').forEach(function (b) {
        reopenCard(b, m.text);
      });
    }
    if ((ev === "rated" || ev === "rating_rejected") && m.metadata.case) {
      ratedCases.add(m.metadata.case);
      document.querySelectorAll('.zw-rating[data-case="' + m.metadata.case + '"]').forEach(function (b) {
        disableCard(b, "已评价", ev === "rated" ? m.metadata.score : null);
      });
    }
  }

  /* Returns true when the message is new to this page. */
  function add(raw, opts) {
    var m = normalize(raw);
    if (m.id && byId.has(m.id)) { if (m.read) markRead([m.id]); return false; }
    if (m.client_id && byClient.has(m.client_id)) {
      var pending = byClient.get(m.client_id);
      if (m.attachment && m.attachment.url && !pending.dataset.att) {  // the upload is stored: show the real file
        var fresh = build(m); fresh.dataset.client = m.client_id; fresh.dataset.att = "1";
        if (pending.dataset.conv) fresh.dataset.conv = pending.dataset.conv;
        pending.replaceWith(fresh); byClient.set(m.client_id, fresh);
      }
      ack(m.client_id, m.id); if (m.read) markRead([m.id]); return false;
    }
    var node = build(m);
    if (m.metadata.event === "welcome") node.classList.add("zw-welcome");
    if (m.conversation_id) node.dataset.conv = m.conversation_id;
    if (m.client_id) { node.dataset.client = m.client_id; byClient.set(m.client_id, node); }
    if (m.attachment && m.attachment.url) node.dataset.att = "1";
    if (m.id) { node.dataset.id = m.id; byId.set(m.id, node); place(node, m.id); }
    else log().appendChild(node);
    markConversation(node);
    noteEvents(m);
    if (!(opts && opts.history)) reveal(node, m);
    return true;
  }

  function ack(clientId, id) {
    var node = byClient.get(clientId);
    if (!node || !id) return;
    if (byId.has(id) && byId.get(id) !== node) { node.remove(); return; }
    if (!node.dataset.id) {
      node.dataset.id = id; byId.set(id, node);
      var st = node.querySelector(".zw-state"); if (st && st.textContent === "发送中…") st.textContent = "已送达";
      node.remove(); place(node, Number(id));
    }
  }

  function fail(clientId, text) {
    var node = byClient.get(clientId); if (!node) return;
    var st = node.querySelector(".zw-state");
    if (st) { st.textContent = text || "未发送"; st.classList.add("zw-failed"); }
  }

  function markRead(ids) {
    (ids || []).forEach(function (id) {
      var node = byId.get(Number(id)), st = node && node.querySelector(".zw-state");
      if (st) { st.textContent = "已读"; st.classList.add("zw-read"); }
    });
  }

  function lastId() { var max = 0; byId.forEach(function (_n, id) { if (id > max) max = id; }); return max; }

  function clear() {
    byId.clear(); byClient.clear(); ratedCases.clear();
    log().querySelectorAll(".zw-msg, .zw-divider").forEach(function (n) { n.remove(); });
  }

  function scrollDown() { var c = log(); c.scrollTop = c.scrollHeight; }

  function topIn(c, node) { return node.getBoundingClientRect().top - c.getBoundingClientRect().top + c.scrollTop; }

  /* A new live message: normally scroll to the end. An answer taller than the list is shown from
     its start instead (the citizen reads it top-down, elder mode included); what arrives right
     after it in the same turn scrolls only as far as keeps that start in view. The citizen's own
     message, or scrolling down past the start, ends this. */
  function reveal(node, m) {
    var c = log();
    if (m.sender === "citizen") { pinned = null; scrollDown(); return; }
    if (pinned && (Date.now() > pinned.until || !pinned.node.isConnected ||
                   c.scrollTop > topIn(c, pinned.node) - PIN_GAP + 4)) pinned = null;
    if (!pinned && node.offsetHeight > c.clientHeight) pinned = { node: node, until: Date.now() + PIN_MS };
    var end = c.scrollHeight - c.clientHeight;
    c.scrollTop = pinned ? Math.min(end, Math.max(0, topIn(c, pinned.node) - PIN_GAP)) : end;
  }

  ZW.render = { normalize: normalize, add: add, ack: ack, fail: fail, markRead: markRead, lastId: lastId,
    clear: clear, scrollDown: scrollDown, ids: function () { return Array.from(byId.keys()); } };
})();
