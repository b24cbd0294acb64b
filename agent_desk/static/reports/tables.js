/* Reports page tables: the 整改跟进 list of bad ratings (with the rectification form) and the
   工单明细 list of the chosen dates (with the link to its CSV export). */
(function () {
  "use strict";
  var Desk = window.Desk, el = Desk.el, $ = function (id) { return document.getElementById(id); };

  /* "2026-05-01 14:03" in China time, whatever the browser's time zone. */
  Desk.chinaTime = function (iso) {
    if (!iso) return "";
    return new Date(new Date(iso).getTime() + 8 * 3600000).toISOString().slice(0, 16).replace("T", " ");
  };

  function cell(tr, text, cls) { var td = el("td", cls || null, text == null ? "" : String(text)); tr.appendChild(td); return td; }
  function caseLink(tr, caseId, trackingNo) {
    var td = el("td"), a = el("a", null, trackingNo);
    a.href = "/agent#case=" + caseId; a.target = "_blank"; a.rel = "noopener";
    a.title = "在坐席工作台查看对话";
    td.appendChild(a); tr.appendChild(td);
  }
  function scoreTag(label, score) { return el("span", "score score-" + score, label); }

  /* ---- 整改跟进 ---- */
  var fu = { state: "pending", next: null };

  function statusCell(tr, r) {
    var td = el("td");
    td.appendChild(el("span", "state state-" + r.rectification, r.rectification_label || r.rectification));
    tr.appendChild(td);
  }

  function noteCell(tr, r) {
    var td = el("td", "note");
    if (r.rectification === "done") {
      td.appendChild(el("div", null, r.rectification_note));
      td.appendChild(el("div", "muted small", (r.rectified_by_name || "") + " · " + Desk.chinaTime(r.rectified_at)));
    } else if (r.rectification === "pending") {
      var b = el("button", "btn btn-small", "记录整改");
      b.type = "button"; b.dataset.rate = r.id;
      b.onclick = function () { openForm(tr, r); };
      td.appendChild(b);
    }
    tr.appendChild(td);
  }

  function ratingRow(r) {
    var tr = el("tr"); tr.dataset.ratingId = r.id;
    caseLink(tr, r.case_id, r.tracking_no);
    cell(tr, Desk.chinaTime(r.created_at));
    cell(tr, r.agent_name || "—");
    var td = el("td"); td.appendChild(scoreTag(r.label, r.score)); tr.appendChild(td);
    cell(tr, r.comment || "（未填写）", r.comment ? "comment" : "comment muted");
    statusCell(tr, r);
    noteCell(tr, r);
    return tr;
  }

  function openForm(tr, r) {
    var open = tr.nextElementSibling;
    if (open && open.classList.contains("fu-form")) { open.querySelector("textarea").focus(); return; }
    var row = el("tr", "fu-form"), td = el("td"); td.colSpan = 7;
    var form = el("form"), id = "fu-note-" + r.id;
    var label = el("label", null, "整改情况说明（" + r.tracking_no + "）"); label.htmlFor = id;
    var text = el("textarea"); text.id = id; text.rows = 3; text.maxLength = 2000; text.setAttribute("aria-required", "true");
    text.placeholder = "例如：已约谈当事坐席并回访市民，市民表示认可。";
    var actions = el("div", "form-actions");
    var ok = el("button", "btn btn-primary", "标记为已整改"); ok.type = "submit";
    var cancel = el("button", "btn", "取消"); cancel.type = "button";
    var err = el("span", "error-line"); err.setAttribute("role", "alert");
    actions.appendChild(ok); actions.appendChild(cancel); actions.appendChild(err);
    form.appendChild(label); form.appendChild(text); form.appendChild(actions);
    td.appendChild(form); row.appendChild(td);
    tr.parentNode.insertBefore(row, tr.nextSibling);
    text.focus();
    cancel.onclick = function () { row.remove(); };
    text.oninput = function () { err.textContent = ""; };
    form.onsubmit = function (ev) {
      ev.preventDefault();
      if (!text.value.trim()) { err.textContent = "请填写整改情况说明"; return; }
      ok.disabled = true; err.textContent = "";
      Desk.api("POST", "/api/ratings/" + r.id + "/rectification", { note: text.value }).then(function (d) {
        row.remove();
        tr.replaceWith(ratingRow(d.rating));
        var n = $("n-pending"); if (/^\d+$/.test(n.textContent)) n.textContent = Math.max(0, Number(n.textContent) - 1);
      }).catch(function (e) { ok.disabled = false; err.textContent = e.message; });
    };
  }

  function loadFollowUp(more) {
    var tb = $("fu-rows");
    $("fu-error").textContent = "";
    if (!more) { tb.textContent = ""; fu.next = null; }
    var q = "/api/ratings/?limit=50&rectification=" + fu.state + (more && fu.next ? "&before=" + fu.next : "");
    return Desk.api("GET", q).then(function (d) {
      d.ratings.forEach(function (r) { tb.appendChild(ratingRow(r)); });
      if (!tb.children.length) {
        var tr = el("tr"); cell(tr, fu.state === "pending" ? "没有待整改的差评" : "暂无记录", "muted").colSpan = 7; tb.appendChild(tr);
      }
      fu.next = d.next_before; $("fu-more").hidden = !fu.next;
    }).catch(function (e) { $("fu-error").textContent = e.message; });
  }

  /* ---- 工单明细 ---- */
  var cl = { from: null, to: null, next: null };

  function caseRow(c) {
    var tr = el("tr");
    caseLink(tr, c.id, c.tracking_no);
    cell(tr, c.created_at.slice(0, 16));
    cell(tr, c.status_label);
    cell(tr, c.agent_name || "—");
    cell(tr, c.topic_title || "—");
    cell(tr, c.reason_label);
    var td = el("td");
    if (c.rating_label) td.appendChild(scoreTag(c.rating_label, c.rating_score)); else td.textContent = "—";
    tr.appendChild(td);
    return tr;
  }

  function loadCases(from, to, more) {
    var tb = $("case-rows");
    $("cases-error").textContent = "";
    if (!more) { cl.from = from; cl.to = to; cl.next = null; tb.textContent = ""; }
    var range = "from=" + encodeURIComponent(cl.from) + "&to=" + encodeURIComponent(cl.to);
    var link = $("export-cases");
    link.href = "/api/reports/cases.csv?" + range;
    return Desk.api("GET", "/api/reports/cases?limit=50&" + range + (more && cl.next ? "&before=" + cl.next : ""))
      .then(function (d) {
        d.cases.forEach(function (c) { tb.appendChild(caseRow(c)); });
        if (!tb.children.length) { var tr = el("tr"); cell(tr, "所选日期内没有转人工的工单", "muted").colSpan = 7; tb.appendChild(tr); }
        $("cases-total").textContent = "共 " + d.total + " 条" + (d.total > tb.children.length ? "，已显示 " + tb.children.length + " 条" : "");
        link.removeAttribute("aria-disabled");
        link.textContent = "导出工单明细 CSV（" + d.total + " 条）";
        cl.next = d.next_before; $("cases-more").hidden = !cl.next;
      }).catch(function (e) { $("cases-error").textContent = e.message; link.setAttribute("aria-disabled", "true"); });
  }

  Desk.reportTables = {
    init: function () {
      document.querySelectorAll("#follow-up .chip").forEach(function (b) {
        b.onclick = function () {
          fu.state = b.dataset.state;
          document.querySelectorAll("#follow-up .chip").forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
          loadFollowUp(false);
        };
      });
      $("fu-more").onclick = function () { loadFollowUp(true); };
      $("cases-more").onclick = function () { loadCases(null, null, true); };
      $("export-cases").addEventListener("click", function (ev) {
        if (this.getAttribute("aria-disabled") === "true") ev.preventDefault();
      });
      return loadFollowUp(false);
    },
    loadCases: loadCases
  };
})();
