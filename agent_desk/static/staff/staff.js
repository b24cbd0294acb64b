/* 工作人员账号 (managers): every account from GET /api/staff/, with 停用 (after a confirm that says
   what it does), 启用 and 解锁 (only while wrong passwords have locked the login). Each answer
   replaces its row in place, with the result or the error under the buttons. */
(function () {
  "use strict";
  var Desk = window.Desk, el = Desk.el, $ = function (id) { return document.getElementById(id); };
  var ROLES = { agent: "坐席", manager: "管理员" };
  var COLS = 6;
  var accounts = [];  // as last listed or answered, for the count above the table

  /* "14:03" (or "05-02 14:03" on another day) in China time, whatever the browser's time zone. */
  function chinaClock(iso) {
    var now = new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 10);
    var t = new Date(new Date(iso).getTime() + 8 * 3600000).toISOString();
    return (t.slice(0, 10) === now ? "" : t.slice(5, 10) + " ") + t.slice(11, 16);
  }

  function lockText(u) {
    if (!u.locked) return "未锁定";
    var minutes = Math.max(1, Math.ceil(u.locked_seconds / 60));
    return "已锁定（约 " + minutes + " 分钟后、" + chinaClock(u.locked_until) + " 自动解除）";
  }

  function cell(tr, text, cls) { var td = el("td", cls || null, text); tr.appendChild(td); return td; }

  function button(label, cls, action) {
    var b = el("button", "btn btn-small" + (cls ? " " + cls : ""), label);
    b.type = "button"; b.dataset.action = action;
    return b;
  }

  function row(u, message) {
    var tr = el("tr"); tr.dataset.userId = u.id; tr.dataset.username = u.username;
    var name = cell(tr, u.username);
    var self = Desk.user && Desk.user.id === u.id;
    if (self) name.appendChild(el("span", "badge self-tag", "本人"));
    cell(tr, u.display_name);
    cell(tr, ROLES[u.role] || u.role);
    var state = cell(tr, "");
    state.appendChild(el("span", "state " + (u.active ? "state-active" : "state-disabled"), u.active ? "启用" : "已停用"));
    var lock = cell(tr, "", "lock");
    lock.appendChild(el("span", u.locked ? "state state-locked" : "muted", lockText(u)));
    var actions = cell(tr, "", "actions");
    if (u.active && !self) {  // the desk refuses a manager's own 停用, so it is not offered
      var off = button("停用", "btn-danger", "disable");
      off.onclick = function () { confirmDisable(tr, u); };
      actions.appendChild(off);
    } else if (self) {
      actions.appendChild(el("span", "muted small", "本人账号不可停用"));
    } else if (!u.active) {
      var on = button("启用", "", "enable");
      on.onclick = function () { act(tr, u, "enable", on); };
      actions.appendChild(on);
    }
    if (u.locked) {
      var unlock = button("解锁", "", "unlock");
      unlock.onclick = function () { act(tr, u, "unlock", unlock); };
      actions.appendChild(unlock);
    }
    var msg = el("p", "row-msg"); msg.setAttribute("role", "status");
    if (message) { msg.textContent = message.text; msg.classList.add(message.ok ? "ok" : "error"); }
    actions.appendChild(msg);
    return tr;
  }

  function say(tr, text, ok) {
    var msg = tr.querySelector(".row-msg");
    msg.textContent = text; msg.classList.toggle("ok", ok); msg.classList.toggle("error", !ok);
  }

  function closeConfirm(tr) {
    var next = tr.nextElementSibling;
    if (next && next.classList.contains("confirm-row")) next.remove();
  }

  function confirmDisable(tr, u) {
    var open = tr.nextElementSibling;
    if (open && open.classList.contains("confirm-row")) { open.querySelector("button").focus(); return; }
    var box = el("tr", "confirm-row"), td = el("td"); td.colSpan = COLS;
    td.appendChild(el("p", null, "确定停用账号 " + u.username + "（" + u.display_name + "）吗？停用后："));
    var list = el("ul");
    ["该账号不能再登录；", "其所有登录会话立即结束，已打开的坐席工作台随即断开；",
     "其正在处理的工单退回排队队列（按原来的排队顺序），由其他坐席接续，市民会收到提示。"]
      .forEach(function (t) { list.appendChild(el("li", null, t)); });
    td.appendChild(list);
    td.appendChild(el("p", "muted small", "之后可随时“启用”，账号需重新登录。"));
    var actions = el("div", "form-actions");
    var ok = el("button", "btn btn-danger-solid", "确认停用"); ok.type = "button"; ok.dataset.action = "confirm-disable";
    var cancel = el("button", "btn", "取消"); cancel.type = "button";
    actions.appendChild(ok); actions.appendChild(cancel);
    td.appendChild(actions); box.appendChild(td);
    tr.parentNode.insertBefore(box, tr.nextSibling);
    ok.focus();
    cancel.onclick = function () { box.remove(); };
    ok.onclick = function () { cancel.disabled = true; act(tr, u, "disable", ok); };
  }

  function resultText(action, d) {
    if (action === "disable") {
      var n = d.requeued_cases || [];
      return n.length ? "已停用。退回排队的工单（" + n.length + " 件）：" + n.join("、")
        : "已停用。该账号没有正在处理的工单。";
    }
    if (action === "enable") return "已启用，该账号可重新登录。" + (d.was_locked ? "登录锁定已一并解除。" : "");
    return d.was_locked ? "已解锁，该账号可以重新登录。" : "该账号当前未被锁定，无需解锁。";
  }

  function act(tr, u, action, btn) {
    btn.disabled = true;
    say(tr, "正在处理…", true);
    Desk.api("POST", "/api/staff/" + u.id + "/" + action).then(function (d) {
      closeConfirm(tr);
      tr.replaceWith(row(d.user, { text: resultText(action, d), ok: true }));
      accounts = accounts.map(function (a) { return a.id === d.user.id ? d.user : a; });
      summary();
    }).catch(function (e) {
      btn.disabled = false;
      closeConfirm(tr);
      var verb = { disable: "停用", enable: "启用", unlock: "解锁" }[action];
      say(tr, verb + "失败：" + e.message, false);
    });
  }

  function summary() {
    var locked = accounts.filter(function (u) { return u.locked; }).length;
    var off = accounts.filter(function (u) { return !u.active; }).length;
    $("staff-total").textContent = "共 " + accounts.length + " 个账号" + (off ? "，已停用 " + off + " 个" : "") +
      (locked ? "，登录锁定 " + locked + " 个" : "");
  }

  function load() {
    $("staff-error").textContent = "";
    return Desk.api("GET", "/api/staff/").then(function (d) {
      var tb = $("staff-rows"); tb.textContent = "";
      accounts = d.staff;
      accounts.forEach(function (u) { tb.appendChild(row(u)); });
      summary();
    }).catch(function (e) { $("staff-error").textContent = "账号列表加载失败：" + e.message; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("logout").onclick = Desk.logout;
    $("refresh").onclick = load;
    Desk.requireLogin(["manager"]).then(function (user) {
      $("me").textContent = user.display_name;
      $("logout").hidden = false; $("accounts").hidden = false;
      load();
    });
  });
})();
