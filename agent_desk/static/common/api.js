/* Staff pages: JSON API calls with the login token, and the shared login form. */
(function () {
  "use strict";
  var Desk = (window.Desk = window.Desk || {});
  var KEY = "desk.token";

  Desk.token = function () { try { return sessionStorage.getItem(KEY); } catch (e) { return null; } };
  Desk.user = null;

  Desk.api = function (method, path, body) {
    var headers = { "Accept": "application/json" };
    var token = Desk.token();
    if (token) headers["Authorization"] = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) })
      .catch(function () {  // the browser's own text ("Failed to fetch") means nothing to staff
        throw Object.assign(new Error("无法连接服务器，请检查网络后重试"), { status: 0 });
      })
      .then(function (r) {
        return r.text().then(function (t) {
          var data = {};
          try { data = t ? JSON.parse(t) : {}; } catch (e) { data = { error: t }; }
          if (!r.ok) { var err = new Error(data.error || ("请求失败（" + r.status + "）")); err.status = r.status; throw err; }
          return data;
        });
      });
  };

  Desk.el = function (tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  };

  Desk.fmtTime = function (iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return d.toLocaleString("zh-CN", { hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  };

  Desk.CHANNELS = { web: "网页", miniprogram: "微信小程序" };
  Desk.REASONS = { button: "市民点击转人工", handoff_intent: "要求人工", fallback: "多次未识别", bot_unreachable: "机器人不可用", crisis: "危机求助" };

  Desk.ROLE_NAMES = { agent: "坐席", manager: "管理人员" };

  /* Resolves with the user once someone with one of ``roles`` is logged in. Someone logged
     in with another role (an agent on the reports page) is told so and offered to log out
     and switch accounts, rather than being shown an empty login form. */
  Desk.requireLogin = function (roles) {
    var box = document.getElementById("login");
    var form = box.querySelector("form"), msg = box.querySelector(".login-error");
    function allowed(user) { return !roles || roles.indexOf(user.role) >= 0; }
    function accept(user) { Desk.user = user; box.hidden = true; msg.textContent = ""; return user; }
    function deny(user) {
      var names = (roles || []).map(function (r) { return Desk.ROLE_NAMES[r] || r; }).join("和");
      box.hidden = false;
      // Only the message stays: a second login over this one would leave its session open.
      Array.prototype.forEach.call(form.children, function (n) { if (n !== msg) n.hidden = true; });
      msg.textContent = "此页面仅限" + names + "，您当前以" + (Desk.ROLE_NAMES[user.role] || user.role) +
        "身份登录（" + user.display_name + "）。如需使用此页面，请退出后用" + names + "账号登录。";
      var switchBtn = box.querySelector(".login-switch");
      if (!switchBtn) {
        switchBtn = Desk.el("button", "btn btn-primary login-switch", "退出并切换账号");
        switchBtn.type = "button";
        switchBtn.addEventListener("click", function () { Desk.logout(); });
        box.appendChild(switchBtn);
      }
      var out = document.getElementById("logout");
      if (out) { out.hidden = false; out.onclick = function () { Desk.logout(); }; }
    }
    return new Promise(function (resolve) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        msg.textContent = "";
        Desk.api("POST", "/api/auth/login", { username: form.username.value.trim(), password: form.password.value })
          .then(function (d) {
            try { sessionStorage.setItem(KEY, d.token); } catch (e) { /* cookie still works */ }
            if (allowed(d.user)) resolve(accept(d.user)); else deny(d.user);
          })
          .catch(function (e) { msg.textContent = e.message || "登录失败"; });
      });
      Desk.api("GET", "/api/auth/me").then(function (d) {
        if (allowed(d.user)) resolve(accept(d.user)); else deny(d.user);
      }).catch(function (e) {
        box.hidden = false;
        // A stored token that stopped working (logged out elsewhere, expired) is said so;
        // a first visit just gets the form.
        if (e.status !== 401 || Desk.token()) msg.textContent = e.message;
        try { sessionStorage.removeItem(KEY); } catch (err) { /* ignore */ }
      });
    });
  };

  Desk.logout = function () {
    return Desk.api("POST", "/api/auth/logout").catch(function () {}).then(function () {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* ignore */ }
      location.reload();
    });
  };
})();
