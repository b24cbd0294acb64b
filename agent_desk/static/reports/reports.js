/* Manager reports: date range → summary API → cards, SVG chart, summary CSV (built here from the same data);
   the follow-up and case tables are in tables.js. */
(function () {
  "use strict";
  var Desk = window.Desk, $ = function (id) { return document.getElementById(id); };
  var last = null;

  // Dates are the service centre's (China time, as the server counts them), not the browser's:
  // a manager's laptop on UTC would otherwise ask for "yesterday" between 00:00 and 08:00.
  function iso(d) { return new Date(d.getTime() + 8 * 3600000).toISOString().slice(0, 10); }
  function pct(x) { return x == null ? "–" : (x * 100).toFixed(1) + "%"; }

  function show(data) {
    last = data;
    var r = data.ratings || {};
    $("n-conversations").textContent = data.conversations;
    $("n-handoffs").textContent = data.handoffs;
    $("n-closed").textContent = data.cases_closed;
    $("n-ratings").textContent = r.total || 0;
    $("n-average").textContent = r.average_score == null ? "–" : Number(r.average_score).toFixed(2);
    $("n-satisfaction").textContent = pct(r.satisfaction_rate);
    $("n-pending").textContent = r.rectification_pending == null ? "–" : r.rectification_pending;
    Desk.barChart($("chart"), (r.distribution || []).slice().sort(function (a, b) { return b.score - a.score; }));
    var tb = $("reasons"); tb.textContent = "";
    var reasons = data.handoff_reasons || {};
    var entries = Array.isArray(reasons) ? reasons.map(function (x) { return [x.reason, x.count]; }) : Object.entries(reasons);
    if (!entries.length) { var tr0 = Desk.el("tr"); tr0.appendChild(Desk.el("td", "muted", "无")); tr0.appendChild(Desk.el("td", null, "0")); tb.appendChild(tr0); }
    entries.forEach(function (e) {
      var tr = Desk.el("tr");
      tr.appendChild(Desk.el("td", null, Desk.REASONS[e[0]] || e[0]));
      tr.appendChild(Desk.el("td", null, String(e[1])));
      tb.appendChild(tr);
    });
    $("export").disabled = false;
  }

  function query() {
    $("report-error").textContent = "";
    var q = "?from=" + $("from").value + "&to=" + $("to").value;
    return Desk.api("GET", "/api/reports/summary" + q).then(function (data) {
      show(data);
      Desk.reportAudit.load($("from").value, $("to").value, false);
      return Desk.reportTables.loadCases($("from").value, $("to").value, false);
    }).catch(function (e) { $("report-error").textContent = e.message; });
  }

  function csvCell(v) { var s = v == null ? "" : String(v); return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; }

  function exportCsv() {
    if (!last) return;
    var from = $("from").value, to = $("to").value, r = last.ratings || {};
    var rows = [["指标", "数值"], ["开始日期", from], ["结束日期", to], ["咨询会话", last.conversations],
      ["转人工", last.handoffs], ["办结工单", last.cases_closed], ["评价数", r.total || 0],
      // Figures as the page shows them (2.00, 25.0%): Excel reads 25.0% as a percentage, 0.25 was misread.
      ["平均分", r.average_score == null ? "" : Number(r.average_score).toFixed(2)],
      ["满意率", r.satisfaction_rate == null ? "" : pct(r.satisfaction_rate)]];
    (r.distribution || []).forEach(function (d) { rows.push(["评价：" + d.label + "（" + d.score + "分）", d.count]); });
    var reasons = last.handoff_reasons || {};
    (Array.isArray(reasons) ? reasons.map(function (x) { return [x.reason, x.count]; }) : Object.entries(reasons))
      .forEach(function (e) { rows.push(["转人工原因：" + (Desk.REASONS[e[0]] || e[0]), e[1]]); });
    var text = "\ufeff" + rows.map(function (row) { return row.map(csvCell).join(","); }).join("\r\n") + "\r\n";
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    a.download = "服务报表_" + from + "_" + to + ".csv";
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var today = new Date(), start = new Date(today.getTime() - 6 * 86400000);
    $("from").value = iso(start); $("to").value = iso(today);
    $("range").onsubmit = function (ev) { ev.preventDefault(); query(); };
    $("export").onclick = exportCsv;
    $("logout").onclick = Desk.logout;
    Desk.requireLogin(["manager"]).then(function (user) {
      $("me").textContent = user.display_name;
      $("logout").hidden = false; $("report").hidden = false;
      Desk.reportTables.init();
      Desk.reportAudit.init();
      query();
    }).catch(function (e) {
      $("login").hidden = false;
      document.querySelector(".login-error").textContent = e.message + "（请使用管理人员账号登录）";
      $("logout").hidden = false;
    });
  });
})();
