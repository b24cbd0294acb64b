/* Send an image or PDF to the agent: checked here for type and size, checked again by the server. */
(function () {
  "use strict";
  var ZW = (window.ZW = window.ZW || {});
  var MAX = 5 * 1024 * 1024, TYPES = ["image/png", "image/jpeg", "application/pdf"];

  function upload(file) {
    if (!file) return;
    if (TYPES.indexOf(file.type) < 0) { ZW.hint("只能发送 PNG、JPG 图片或 PDF 文件。"); return; }
    if (file.size > MAX) { ZW.hint("文件太大了，最大 5MB。"); return; }
    var token = ZW.store.get("token");
    if (!token) { ZW.hint("正在连接，请稍后再发送文件。"); return; }
    var cid = ZW.uuid();
    ZW.render.add({ sender: "citizen", client_id: cid, text: "附件：" + file.name, kind: "file" });
    var form = new FormData();
    form.append("file", file, file.name);
    form.append("client_id", cid);
    ZW.hint("正在上传…");
    fetch(ZW.chat.baseUrl + "/api/web/uploads", { method: "POST", body: form, headers: { "X-Citizen-Token": token } })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (!res.ok) { ZW.render.fail(cid, "未发送"); ZW.hint(res.body.error || "上传失败，请重试。"); return; }
        ZW.render.add({ id: res.body.message_id, sender: "citizen", client_id: cid, kind: res.body.attachment.type,
          text: res.body.attachment.name, attachment: res.body.attachment });
        ZW.hint("");
      })
      .catch(function () { ZW.render.fail(cid, "未发送"); ZW.hint("网络不稳定，上传失败，请重试。"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var input = ZW.$("zw-file");
    ZW.$("zw-attach").addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () { upload(input.files[0]); input.value = ""; });
  });
  ZW.upload = upload;
})();
