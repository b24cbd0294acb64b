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
  Desk.REASONS = { button: "市民点击转人工", handoff_intent: "要求人工", fallback: "多次未识别", bot_unreachable: "机器人不可用" };

  /* Resolves with the user once someone with one of ``roles`` is logged in. */
  Desk.requireLogin = function (roles) {
    var box = document.getElementById("login");
    function ok(user) {
      if (roles && roles.indexOf(user.role) < 0) throw Object.assign(new Error("此页面仅限管理人员使用"), { status: 403 });
      Desk.user = user; box.hidden = true; return user;
    }
    return Desk.api("GET", "/api/auth/me").then(function (d) { return ok(d.user); }).catch(function () {
      box.hidden = false;
      return new Promise(function (resolve) {
        var form = box.querySelector("form"), msg = box.querySelector(".login-error");
        form.addEventListener("submit", function (ev) {
          ev.preventDefault();
          msg.textContent = "";
          Desk.api("POST", "/api/auth/login", { username: form.username.value.trim(), password: form.password.value })
            .then(function (d) {
              try { sessionStorage.setItem(KEY, d.token); } catch (e) { /* cookie still works */ }
              resolve(ok(d.user));
            })
            .catch(function (e) { msg.textContent = e.message || "登录失败"; });
        });
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
