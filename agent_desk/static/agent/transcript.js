/* Renders one case's whole conversation: the bot part (marked) and the human part. */
(function () {
  "use strict";
  var Desk = (window.Desk = window.Desk || {});
  var el = Desk.el;
  var WHO = { citizen: "市民", bot: "智能客服", system: "系统", agent: "坐席" };
  var RATING = { 5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意" };

  function T(container) { this.c = container; this.ids = new Set(); this.handedOff = false; }

  T.prototype.reset = function () { this.c.textContent = ""; this.ids.clear(); this.handedOff = false; };

  T.prototype.citizenText = function (m) {
    var meta = m.metadata || {};
    if (m.text === "/human_handoff") return "（点击了“转人工”）";
    if (/^\/rate\{/.test(m.text)) {
      try {
        var r = JSON.parse(m.text.slice(5));
        return "（提交了评价）" + (RATING[r.score] || r.score) + (r.comment ? "：" + r.comment : "");
      } catch (e) { return "（提交了评价）" + m.text.slice(5); }
    }
    return meta.display_text || m.text;
  };

  T.prototype.add = function (m) {
    if (m.id && this.ids.has(m.id)) return false;
    if (m.id) this.ids.add(m.id);
    var meta = m.metadata || {};
    if (!this.handedOff && meta.event === "queued") {
      this.handedOff = true;
      this.c.appendChild(el("div", "divider", "—— 以上为智能客服对话，以下为转人工后的服务 ——"));
    }
    var cls = "msg " + m.sender + (m.private ? " private" : "");
    if (!this.handedOff && m.sender !== "agent") cls += " bot-part";
    var node = el("div", cls);
    node.dataset.id = m.id || "";
    var who = el("div", "who", (m.sender === "agent" && meta.agent_name ? "坐席 " + meta.agent_name : WHO[m.sender] || m.sender)
      + " · " + Desk.fmtTime(m.created_at));
    if (!this.handedOff && m.sender !== "agent") who.appendChild(el("span", "tag", "机器人阶段"));
    if (m.private) who.appendChild(el("span", "tag", "内部备注"));
    if (m.sender === "citizen" && m.read) who.appendChild(el("span", "tag", "已读"));
    if (meta.topic) who.appendChild(el("span", "tag", "主题 " + (m.topic_label || meta.topic)));
    node.appendChild(who);
    var body = el("div", "body");
    var att = m.attachment;
    if (att && att.url) {
      var a = el("a"); a.href = att.url; a.target = "_blank"; a.rel = "noopener noreferrer";
      if (att.type === "image") { var img = el("img"); img.src = att.url; img.alt = att.name || "图片"; a.appendChild(img); }
      else a.textContent = "文件：" + (att.name || "文件") + (att.size ? "（" + Math.ceil(att.size / 1024) + " KB）" : "");
      body.appendChild(a);
    } else {
      body.textContent = m.sender === "citizen" ? this.citizenText(m) : m.text;
    }
    node.appendChild(body);
    if (m.buttons && m.buttons.length) {
      node.appendChild(el("div", "buttons", "按钮：" + m.buttons.map(function (b) { return b.title; }).join(" / ")));
    }
    if (m.delivery === "undelivered") markUndelivered(node, m.delivery_error);
    this.c.appendChild(node);
    this.c.scrollTop = this.c.scrollHeight;
    return true;
  };

  // A reply the citizen's channel refused (mini-program: WeChat's 48-hour window, a blocked
  // account...). The agent must see it on the message itself, or they would wait for an answer
  // to something the citizen never got.
  function markUndelivered(node, error) {
    if (node.querySelector(".delivery-error")) return;
    node.classList.add("undelivered");
    node.appendChild(el("div", "delivery-error", "未送达市民" + (error ? "：" + error : "") + "。请通过电话等其他方式联系。"));
  }

  T.prototype.setDelivery = function (id, delivery, error) {
    if (delivery !== "undelivered") return;
    var node = this.c.querySelector('.msg[data-id="' + Number(id) + '"]');
    if (node) markUndelivered(node, error);
  };

  T.prototype.maxCitizenId = function () {
    var max = 0;
    this.c.querySelectorAll(".msg.citizen").forEach(function (n) { var id = Number(n.dataset.id); if (id > max) max = id; });
    return max;
  };

  Desk.Transcript = T;
})();
