/* Read-aloud (speech synthesis) and voice input (speech recognition), where the browser has them.
   Where it does not, the UI says so inline: no pop-ups. */
(function () {
  "use strict";
  var ZW = (window.ZW = window.ZW || {});
  var synth = window.speechSynthesis;
  var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;

  function speak(text) {
    if (!synth || !text) return false;
    try {
      synth.cancel();
      var u = new SpeechSynthesisUtterance(text);
      u.lang = "zh-CN";
      u.rate = document.body.classList.contains("zw-elder") ? 0.85 : 1;
      synth.speak(u);
      return true;
    } catch (e) { return false; }
  }

  function listen(onText) {
    if (!Recognition) {
      ZW.hint("当前浏览器不支持语音输入。您可以使用手机输入法自带的语音按钮，或直接打字。");
      return false;
    }
    var rec;
    try { rec = new Recognition(); } catch (e) {
      ZW.hint("语音输入无法启动。您可以使用输入法自带的语音按钮，或直接打字。");
      return false;
    }
    rec.lang = "zh-CN";
    rec.interimResults = false;
    rec.maxAlternatives = 1;
    rec.onresult = function (ev) {
      var t = ev.results && ev.results[0] && ev.results[0][0] ? ev.results[0][0].transcript : "";
      if (t) onText(t);
      ZW.hint("");
    };
    rec.onerror = function (ev) {
      ZW.hint(ev && ev.error === "not-allowed"
        ? "没有麦克风权限。请在浏览器设置中允许使用麦克风，或直接打字。"
        : "没有听清，请再说一次，或直接打字。");
    };
    rec.onend = function () { var b = ZW.$("zw-mic"); if (b) b.removeAttribute("aria-pressed"); };
    ZW.hint("请说话…");
    var b = ZW.$("zw-mic"); if (b) b.setAttribute("aria-pressed", "true");
    try { rec.start(); } catch (e) { ZW.hint("语音输入无法启动，请直接打字。"); return false; }
    return true;
  }

  ZW.speech = { canSpeak: !!synth, canListen: !!Recognition, speak: speak, listen: listen };
})();
