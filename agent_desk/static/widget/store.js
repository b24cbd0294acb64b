/* Small persistent state of the widget: identity token, elder mode, unsent messages. */
(function () {
  "use strict";
  var ZW = (window.ZW = window.ZW || {});
  var NS = "zw.";
  function safe(fn, fallback) { try { return fn(); } catch (e) { return fallback; } }
  ZW.store = {
    get: function (k) { return safe(function () { return localStorage.getItem(NS + k); }, null); },
    set: function (k, v) { safe(function () { localStorage.setItem(NS + k, v); }); },
    del: function (k) { safe(function () { localStorage.removeItem(NS + k); }); },
    getJSON: function (k, dflt) {
      var raw = ZW.store.get(k);
      return raw ? safe(function () { return JSON.parse(raw); }, dflt) : dflt;
    },
    setJSON: function (k, v) { ZW.store.set(k, JSON.stringify(v)); }
  };
  ZW.uuid = function () {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    var s = "";
    for (var i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
    return s;
  };
  ZW.$ = function (id) { return document.getElementById(id); };
  ZW.hint = function (text) { var el = ZW.$("zw-hint"); if (el) el.textContent = text || ""; };
})();
