/* Reports page: the 审计日志 section, read from GET /api/audit/ for the page's dates and filters. */
(function () {
  "use strict";
  var Desk = window.Desk, el = Desk.el, $ = function (id) { return document.getElementById(id); };
  var ACTIONS = {
    "auth.login": "登录", "auth.login_failed": "登录失败", "auth.login_locked": "登录被暂停", "auth.logout": "退出登录",
    "case.view": "查看对话", "case.view_denied": "查看对话被拒绝", "case.accept": "接入工单", "case.close": "结束工单", "case.requeue": "工单退回队列",
    "message.send": "发送消息", "message.note": "内部备注", "rating.list": "查看评价", "rating.rectify": "记录整改",
    "report.view": "查看报表", "report.export": "导出报表", "staff.disable": "停用账号", "staff.enable": "启用账号",
    "staff.unlock": "解锁账号"
  };
  var ROLES = { agent: "坐席", manager: "管理员" };
  // No actor: a citizen-side or anonymous event ("—"), or an operator command (role "system").
  function actorText(e) {
    if (e.actor) return (e.actor_name || e.actor) + "（" + e.actor + "，" + (ROLES[e.actor_role] || e.actor_role || "") + "）";
    return e.actor_role === "system" ? "系统（命令行）" : "—";
  }
  var state = { from: null, to: null, next: null };

  function cell(tr, text, cls) { tr.appendChild(el("td", cls || null, text == null ? "" : String(text))); }

  function detailText(d) {
    var keys = Object.keys(d || {});
    return keys.length ? keys.map(function (k) {
      var v = d[k];
      return k + "=" + (typeof v === "object" ? JSON.stringify(v) : String(v));
    }).join("；") : "";
  }

  function row(e) {
    var tr = el("tr");
    cell(tr, Desk.chinaTime(e.created_at));
    cell(tr, actorText(e));
    cell(tr, ACTIONS[e.action] || e.action);
    cell(tr, e.target_id || "—");
    cell(tr, detailText(e.detail), "detail");
    cell(tr, e.ip || "");
    return tr;
  }

  function load(from, to, more) {
    var tb = $("audit-rows");
    $("audit-error").textContent = "";
    if (!more) { state.from = from; state.to = to; state.next = null; tb.textContent = ""; }
    var q = "limit=50&from=" + encodeURIComponent(state.from) + "&to=" + encodeURIComponent(state.to);
    [["actor", "audit-actor"], ["action", "audit-action"], ["target", "audit-target"]].forEach(function (f) {
      var v = $(f[1]).value.trim();
      if (v) q += "&" + f[0] + "=" + encodeURIComponent(v);
    });
    if (more && state.next) q += "&before=" + state.next;
    return Desk.api("GET", "/api/audit/?" + q).then(function (d) {
      d.entries.forEach(function (e) { tb.appendChild(row(e)); });
      if (!tb.children.length) { var tr = el("tr"); var td = el("td", "muted", "没有符合条件的记录"); td.colSpan = 6; tr.appendChild(td); tb.appendChild(tr); }
      state.next = d.next_before; $("audit-more").hidden = !state.next;
    }).catch(function (e) { $("audit-error").textContent = e.message; });
  }

  Desk.reportAudit = {
    init: function () {
      $("audit-filter").onsubmit = function (ev) { ev.preventDefault(); load(state.from, state.to, false); };
      $("audit-more").onclick = function () { load(null, null, true); };
    },
    load: load
  };
})();
