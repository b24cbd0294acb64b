/* One script tag puts the citizen chat on any page:
     <script src="https://desk.example.gov.cn/static/widget/embed.js" data-desk-url="https://desk.example.gov.cn"></script>
   It adds a 在线咨询 button; the chat itself runs in an iframe served by the desk, so the host
   page's styles and scripts cannot interfere with it (and it cannot read the host page). */
(function () {
  "use strict";
  if (window.__zwEmbedded) return;
  window.__zwEmbedded = true;
  var script = document.currentScript || document.querySelector("script[data-desk-url]");
  var desk = ((script && script.getAttribute("data-desk-url")) || (script && new URL(script.src).origin) || "").replace(/\/$/, "");
  var label = (script && script.getAttribute("data-label")) || "在线咨询";

  function mount() {
    var btn = document.createElement("button");
    btn.type = "button";
    btn.id = "zw-embed-launcher";
    btn.textContent = label;
    btn.setAttribute("aria-expanded", "false");
    btn.style.cssText = "position:fixed;right:20px;bottom:20px;z-index:2147483000;min-width:64px;min-height:64px;" +
      "padding:0 20px;border:none;border-radius:32px;background:#0a3d91;color:#fff;font-size:18px;" +
      "font-family:'PingFang SC','Microsoft YaHei',sans-serif;box-shadow:0 2px 8px rgba(0,0,0,.3);cursor:pointer";
    var frame = document.createElement("iframe");
    frame.id = "zw-embed-frame";
    frame.title = "政务服务智能客服";
    frame.src = desk + "/widget?embed=1";
    frame.allow = "microphone; autoplay";
    frame.hidden = true;
    frame.style.cssText = "position:fixed;right:20px;bottom:96px;z-index:2147483000;width:min(420px,calc(100vw - 40px));" +
      "height:min(640px,calc(100vh - 120px));border:1px solid #c9d2de;border-radius:12px;background:#fff;" +
      "box-shadow:0 4px 16px rgba(0,0,0,.25)";
    btn.addEventListener("click", function () {
      frame.hidden = !frame.hidden;
      frame.style.display = frame.hidden ? "none" : "block";
      btn.setAttribute("aria-expanded", String(!frame.hidden));
      btn.textContent = frame.hidden ? label : "收起";
    });
    frame.style.display = "none";
    document.body.appendChild(frame);
    document.body.appendChild(btn);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
