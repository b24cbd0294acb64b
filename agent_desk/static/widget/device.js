/* Continue on another device: a one-time transfer code, or a verified phone number. */
(function () {
  "use strict";
  var ZW = (window.ZW = window.ZW || {});

  function say(t) { ZW.$("zw-device-msg").textContent = t || ""; }

  function call(event, data) {
    if (!ZW.chat || !ZW.chat.ready()) { say("正在连接，请稍候再试。"); return Promise.reject(new Error("offline")); }
    return ZW.chat.socket.timeout(10000).emitWithAck(event, data || {}).then(function (res) {
      if (!res || !res.ok) { say((res && res.error) || "操作失败，请重试。"); throw new Error("failed"); }
      return res;
    });
  }

  function adopt(res) {
    ZW.chat.adoptIdentity(res.citizen_token, res.session_id);
    say("已同步，您的咨询记录已显示在下方。");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panel = ZW.$("zw-device"), more = ZW.$("zw-more");
    more.addEventListener("click", function () {
      panel.hidden = !panel.hidden;
      more.setAttribute("aria-expanded", String(!panel.hidden));
    });
    ZW.$("zw-xfer-get").addEventListener("click", function () {
      call("transfer_code_request").then(function (res) {
        ZW.$("zw-xfer-code").textContent = res.code;
        say("请在新设备上打开本页面，点“换设备”，输入以上验证码（" + Math.round(res.expires_in / 60) + "分钟内有效，仅可使用一次）。");
      }).catch(function () {});
    });
    ZW.$("zw-xfer-use").addEventListener("click", function () {
      call("transfer_code_redeem", { code: ZW.$("zw-xfer-input").value.trim() }).then(adopt).catch(function () {});
    });
    ZW.$("zw-phone-get").addEventListener("click", function () {
      call("phone_code_request", { phone: ZW.$("zw-phone").value.trim() }).then(function (res) {
        say("验证码已发送至 " + res.phone + "，5分钟内有效。");
      }).catch(function () {});
    });
    ZW.$("zw-phone-use").addEventListener("click", function () {
      call("phone_verify", { phone: ZW.$("zw-phone").value.trim(), code: ZW.$("zw-phone-code").value.trim() })
        .then(adopt).catch(function () {});
    });
  });
})();
